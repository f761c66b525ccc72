#include "common/metrics_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.h"
#include "common/metrics.h"

namespace nacre {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// One scrape: read a request, answer it, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket s) : stream_(std::move(s)) {}

  void Run() {
    parser_.body_limit(8192);
    parser_.header_limit(8192);
    stream_.expires_after(std::chrono::seconds(5));
    http::async_read(stream_, buf_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->Respond();
    });
  }

 private:
  void Respond() {
    const auto& req = parser_.get();
    res_.version(req.version());
    res_.keep_alive(false);
    if (req.method() != http::verb::get) {
      res_.result(http::status::method_not_allowed);
      res_.body() = "only GET\n";
    } else if (req.target() != "/metrics" && req.target() != "/") {
      res_.result(http::status::not_found);
      res_.body() = "try /metrics\n";
    } else {
      res_.result(http::status::ok);
      res_.set(http::field::content_type, "text/plain; version=0.0.4");
      res_.body() = Metrics().RenderPrometheus();
    }
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> res_;
};

}  // namespace

MetricsServer::MetricsServer(boost::asio::io_context& io) : io_(io) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  if (ec) return Invalid("metrics: bad address '" + host + "'");
  auto acc = std::make_shared<tcp::acceptor>(io_);
  tcp::endpoint ep(addr, port);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(64, ec);
  if (ec) return IOError("metrics: cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  port_ = acc->local_endpoint().port();
  acceptor_ = std::move(acc);
  Accept();
  NLOG(metrics, kInfo) << "serving /metrics on " << host << ":" << port_;
  return Status::OK();
}

void MetricsServer::Stop() {
  if (!acceptor_) return;
  boost::system::error_code ec;
  acceptor_->close(ec);
  acceptor_.reset();
}

void MetricsServer::Accept() {
  auto acc = acceptor_;
  if (!acc) return;
  acc->async_accept([this, acc](boost::system::error_code ec, tcp::socket s) {
    if (ec == boost::asio::error::operation_aborted || !acc->is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(s))->Run();
    Accept();
  });
}

}  // namespace nacre
