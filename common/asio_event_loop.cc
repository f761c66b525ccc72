#include "common/asio_event_loop.h"

#include <boost/asio/post.hpp>

namespace nacre {

AsioEventLoop::AsioEventLoop() : guard_(boost::asio::make_work_guard(io_)) {}

AsioEventLoop::~AsioEventLoop() { Stop(); }

EventLoop::Duration AsioEventLoop::Now() const {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch());
}

EventLoop::TimerId AsioEventLoop::CallAfter(Duration delay, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
  TimerId id;
  {
    std::lock_guard<std::mutex> g(mu_);
    id = next_id_++;
    timers_[id] = timer;
  }
  timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& ec) {
    {
      std::lock_guard<std::mutex> g(mu_);
      timers_.erase(id);
    }
    if (!ec) fn();
  });
  return id;
}

void AsioEventLoop::Cancel(TimerId id) {
  std::shared_ptr<boost::asio::steady_timer> t;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    t = it->second;
    timers_.erase(it);
  }
  // cancel() must run on the loop's thread like every other timer operation.
  boost::asio::post(io_, [t] { t->cancel(); });
}

void AsioEventLoop::Post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

void AsioEventLoop::Run() { io_.run(); }

void AsioEventLoop::Stop() {
  guard_.reset();
  io_.stop();
}

size_t AsioEventLoop::Poll() {
  if (io_.stopped()) io_.restart();
  return io_.poll();
}

}  // namespace nacre
