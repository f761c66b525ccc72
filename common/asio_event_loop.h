// AsioEventLoop: the EventLoop of real daemons, over a boost::asio::io_context.
//
// Run() drives the loop on the calling thread until Stop(). Timers are
// steady_timers; Post is asio::post and so is safe from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/event_loop.h"

namespace nacre {

class AsioEventLoop : public EventLoop {
 public:
  AsioEventLoop();
  ~AsioEventLoop() override;

  Duration Now() const override;
  TimerId CallAfter(Duration delay, std::function<void()> fn) override;
  void Cancel(TimerId id) override;
  void Post(std::function<void()> fn) override;

  // Runs until Stop(); returns at once if already stopped.
  void Run();
  void Stop();
  // Runs ready handlers without blocking; for tests that pump by hand.
  size_t Poll();

  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  // Keeps Run() from returning while there is no work.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::mutex mu_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, std::shared_ptr<boost::asio::steady_timer>> timers_;
};

}  // namespace nacre
