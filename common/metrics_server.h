// MetricsServer: serves the process's MetricsRegistry as Prometheus text at
// GET /metrics over HTTP (Boost.Beast), on the daemon's io_context.
//
// Small on purpose: one request per connection, requests capped at 8 KiB,
// a 5 s deadline per connection, so a slow or hostile scraper cannot hold
// resources.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

#include "common/status.h"

namespace nacre {

class MetricsServer {
 public:
  explicit MetricsServer(boost::asio::io_context& io);
  ~MetricsServer();

  // Binds host:port (port 0 picks a free one) and starts accepting.
  Status Start(const std::string& host, uint16_t port);
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void Accept();

  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
};

}  // namespace nacre
