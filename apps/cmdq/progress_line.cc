#include "progress_line.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace cmdq::app {

ProgressLine::ProgressLine(std::function<std::string()> render, std::chrono::milliseconds period)
    : render_(std::move(render)), period_(period), tty_(isatty(STDERR_FILENO) == 1) {
  if (!tty_) period_ = std::max(period_, std::chrono::milliseconds(2000));
}

ProgressLine::~ProgressLine() { Stop(); }

void ProgressLine::Start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void ProgressLine::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  Draw(/*final_draw=*/true);
}

void ProgressLine::Run() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    Draw(/*final_draw=*/false);
    lock.lock();
  }
}

void ProgressLine::Draw(bool final_draw) {
  const std::string line = render_();
  if (tty_) {
    // \x1b[K erases what a longer previous line left to the right.
    fmt::print(stderr, "\r{}\x1b[K{}", line, final_draw ? "\n" : "");
  } else {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
}

std::string RenderBar(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * width + 0.5);
  return fmt::format("[{}{}] {:3.0f}%", std::string(filled, '#'), std::string(width - filled, '.'),
                     fraction * 100);
}

}  // namespace cmdq::app
