// cmdq_peer_bench: runs one W1 workload (WORKLOADS.md) against one peer that is already
// running, through that peer's own C client, and prints the result object. bench/peers/run
// starts and stops the peers and runs this once per system, mode, workload and round.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>

#include "load.h"
#include "peer.h"

namespace cmdq::peers {
namespace {

using Factory = Result<std::unique_ptr<Peer>> (*)(const PeerOptions&);

const std::map<std::string, Factory>& Factories() {
  static const std::map<std::string, Factory> factories = {
      {"beanstalkd", &MakeBeanstalkdPeer},
      {"redis", &MakeRedisPeer},
      {"rabbitmq", &MakeRabbitMqPeer},
      {"postgres", &MakePostgresPeer},
      {"nats", &MakeNatsPeer},
  };
  return factories;
}

int Run(int argc, char** argv) {
  CLI::App app{"Run a W1 workload against a running peer through its own client"};
  std::string peer_name;
  std::string durability = "D0";
  bool json = false;
  PeerOptions peer_options;
  LoadOptions load;
  std::vector<std::string> names;
  for (const auto& [name, factory] : Factories()) names.push_back(name);
  app.add_option("--peer", peer_name, "The system to run against")
      ->required()
      ->check(CLI::IsMember(names));
  app.add_option("--host", peer_options.host, "Its IPv4 address")->capture_default_str();
  app.add_option("--port", peer_options.port, "Its port")->required();
  app.add_option("--durability", durability, "D0 (memory) or D1 (on disk before the ack)")
      ->check(CLI::IsMember({"D0", "D1"}))
      ->capture_default_str();
  app.add_option("-w,--workload", load.workload, "W1.sat or W1.10k")
      ->check(CLI::IsMember({"W1.sat", "W1.10k"}))
      ->capture_default_str();
  app.add_option("-n,--commands", load.commands, "W1.sat: commands in the run, at most")
      ->capture_default_str();
  app.add_option("--seconds", load.seconds,
                 "W1.sat: stop submitting after this long; W1.10k: offer load this long")
      ->capture_default_str();
  app.add_option("--rate", load.rate, "W1.10k: commands/s offered")->capture_default_str();
  app.add_option("--drain-seconds", load.drain_seconds,
                 "After the last submit (W1.10k: the last due time), wait this long for the "
                 "rest to be done")
      ->capture_default_str();
  app.add_option("--in-flight", load.in_flight, "W1.sat: submitted but not done, at most")
      ->capture_default_str();
  app.add_option("--batch", peer_options.batch, "Commands per write and per take")
      ->capture_default_str();
  app.add_option("--window", peer_options.window,
                 "Unconfirmed submits per producer connection; consumer prefetch")
      ->capture_default_str();
  app.add_option("--queue", peer_options.queue,
                 "Queue/stream/tube/table name (default: one of its own for this run)");
  app.add_flag("--json", json, "Print the result as one JSON line");
  CLI11_PARSE(app, argc, argv);

  peer_options.durability = durability == "D1" ? Durability::kD1 : Durability::kD0;
  if (app.count("--queue") == 0) {
    peer_options.queue =
        "w1_" + std::to_string(::getpid()) + "_" + std::to_string(std::time(nullptr));
  }
  load.system = peer_name;
  auto peer = Factories().at(peer_name)(peer_options);
  if (!peer) {
    std::fprintf(stderr, "cmdq_peer_bench: %s\n", peer.error().ToString().c_str());
    return 1;
  }
  if (Status status = (*peer)->Prepare(); !status.ok()) {
    std::fprintf(stderr, "cmdq_peer_bench: prepare: %s\n", status.ToString().c_str());
    return 1;
  }
  auto result = RunW1(**peer, peer_options, load);
  if (!result) {
    std::fprintf(stderr, "cmdq_peer_bench: %s\n", result.error().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", json ? result->ToJson().c_str() : result->ToTable().c_str());
  return 0;
}

}  // namespace
}  // namespace cmdq::peers

int main(int argc, char** argv) { return cmdq::peers::Run(argc, argv); }
