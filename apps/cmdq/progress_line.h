// ProgressLine: redraws one status line on standard error while long work runs.
//
// A background thread calls `render` about 4 times a second and redraws the line in
// place with '\r'. When standard error is not a terminal (a log file, CI), it writes a
// plain line every couple of seconds instead, so logs stay readable.
// Start() and Stop() are called from one thread; `render` runs on the background thread
// and must be thread-safe with respect to the work it reports on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cmdq::app {

class ProgressLine {
 public:
  explicit ProgressLine(std::function<std::string()> render,
                        std::chrono::milliseconds period = std::chrono::milliseconds(250));
  ~ProgressLine();  // stops if still running
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void Start();
  // Draws the line a last time and ends it with a newline.
  void Stop();

 private:
  void Run();
  void Draw(bool final_draw);

  std::function<std::string()> render_;
  std::chrono::milliseconds period_;
  bool tty_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

// "[#########.........]  45%": a bar `width` characters wide for a fraction in 0..1.
std::string RenderBar(double fraction, int width = 30);

}  // namespace cmdq::app
