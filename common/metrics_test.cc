#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <thread>

#include "common/asio_event_loop.h"
#include "common/metrics.h"
#include "common/metrics_server.h"

using namespace nacre;

TEST_CASE("registry renders counters, gauges and histograms", "[metrics]") {
  MetricsRegistry r;
  r.GetCounter("nacre_test_ops_total", "ops", "pool=\"data\"")->Inc(3);
  r.GetCounter("nacre_test_ops_total", "ops", "pool=\"data\"")->Inc();  // same metric
  r.GetGauge("nacre_test_up", "up")->Set(1);
  Histogram* h = r.GetHistogram("nacre_test_latency_seconds", "latency");
  for (int i = 0; i < 99; ++i) h->Observe(0.0001);
  h->Observe(1.0);
  std::string text = r.RenderPrometheus();
  CHECK(text.find("# TYPE nacre_test_ops_total counter\n") != std::string::npos);
  CHECK(text.find("nacre_test_ops_total{pool=\"data\"} 4\n") != std::string::npos);
  CHECK(text.find("nacre_test_up 1\n") != std::string::npos);
  CHECK(text.find("nacre_test_latency_seconds_count 100\n") != std::string::npos);
  CHECK(text.find("nacre_test_latency_seconds_bucket{le=\"+Inf\"} 100\n") != std::string::npos);
  CHECK(h->Quantile(0.5) <= 0.00016);
  CHECK(h->Quantile(0.999) >= 1.0);
}

namespace {
std::string HttpGet(uint16_t port, const std::string& target) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(boost::asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}
}  // namespace

TEST_CASE("metrics are served over HTTP at /metrics", "[metrics]") {
  Metrics().GetCounter("nacre_test_scrapes_total", "a test counter")->Inc(7);
  AsioEventLoop loop;
  MetricsServer server(loop.io());
  REQUIRE(server.Start("127.0.0.1", 0).ok());
  REQUIRE(server.port() != 0);
  std::thread t([&] { loop.Run(); });
  std::string ok = HttpGet(server.port(), "/metrics");
  std::string missing = HttpGet(server.port(), "/nope");
  loop.Post([&] { server.Stop(); });
  loop.Stop();
  t.join();
  CHECK(ok.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(ok.find("nacre_test_scrapes_total 7") != std::string::npos);
  CHECK(missing.rfind("HTTP/1.1 404", 0) == 0);
}
