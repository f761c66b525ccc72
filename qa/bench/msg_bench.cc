// msg_bench: the TCP messenger against plain sockets, between two processes
// over loopback, measured in the same run.
//
//   msg_bench [--rounds R] [--pings N] [--mib M]
//
// - round trip: 64-byte ping-pong. Plain: blocking write/read of 64 bytes on
//   a TCP_NODELAY socket. Messenger: MSG_TEST echoed as MSG_TEST_REPLY on a
//   lossless connection, the next ping sent from the reply's dispatch.
// - throughput: M MiB in 4 MiB units. Plain: blocking writes of 4 MiB, the
//   reader reads into a reused buffer. Messenger: 4 MiB payloads (crc32c on
//   both ends, one buffer allocated per received payload), the last one
//   answered.
// The server side runs in a child process (this binary with --child).
// Rounds alternate plain and messenger so background load hits both alike;
// the table reports the median round. Targets: messenger throughput >= 80%
// of plain, round trip <= 1.5x plain.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/asio_event_loop.h"
#include "common/msg/tcp_messenger.h"
#include "proto/messenger.pb.h"

namespace nacre::bench {
namespace {

using Clock = std::chrono::steady_clock;
using msg::Message;
constexpr size_t kPingBytes = 64;
constexpr size_t kUnitBytes = 4u << 20;
const char* kServer = "osd.bench";
const char* kClient = "client.bench";

std::string Secret(const std::string& who) { return std::string(32, who[0]); }
msg::KeyLookup Keys() {
  return [](const std::string& e) -> Result<std::string> { return Secret(e); };
}

// --- plain sockets ---------------------------------------------------------------

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}
bool ReadAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
void NoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
int Listen(uint16_t* port) {
  int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::listen(l, 16);
  socklen_t len = sizeof sa;
  ::getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len);
  *port = ntohs(sa.sin_port);
  return l;
}
int Dial(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return -1;
  NoDelay(fd);
  return fd;
}

// Child: echo 64-byte pings; or, after a 'T' byte and a u64 length, read
// that many bytes and answer one byte.
void ServePlain(int fd) {
  NoDelay(fd);
  char kind;
  if (!ReadAll(fd, &kind, 1)) return;
  if (kind == 'P') {
    char buf[kPingBytes];
    while (ReadAll(fd, buf, sizeof buf) && WriteAll(fd, buf, sizeof buf)) {
    }
  } else {
    std::vector<char> buf(kUnitBytes);
    uint64_t total;
    while (ReadAll(fd, reinterpret_cast<char*>(&total), sizeof total)) {
      while (total > 0) {
        size_t n = std::min<uint64_t>(total, buf.size());
        if (!ReadAll(fd, buf.data(), n)) return;
        total -= n;
      }
      if (!WriteAll(fd, "k", 1)) return;
    }
  }
  ::close(fd);
}

// Child: the messenger echoes what asks for an answer (TestMsg.sent_ns != 0),
// with the payload when it is small.
class EchoDispatcher : public msg::Dispatcher {
 public:
  void OnMessage(const msg::ConnectionRef& c, Message&& m) override {
    proto::TestMsg h;
    if (!m.ParseHeader(&h) || h.sent_ns() == 0) return;
    Bytes back = m.payload.size() <= kPingBytes ? m.payload : Bytes();
    (void)c->Send(Message::Make(proto::MSG_TEST_REPLY, h, std::move(back)));
  }
};

int ChildMain() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  uint16_t plain_port;
  int l = Listen(&plain_port);
  std::thread([l] {
    for (;;) {
      int fd = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) std::thread(ServePlain, fd).detach();
    }
  }).detach();
  AsioEventLoop loop;
  EchoDispatcher d;
  msg::TcpMessenger m(loop, kServer, Keys(), Secret(kServer), msg::TcpMessengerOptions{});
  m.SetDispatcher(&d);
  if (!m.Bind(msg::EntityAddr{"127.0.0.1", 0}).ok() || !m.Start().ok()) return 1;
  std::printf("PORTS %u %u\n", m.my_addr().port, plain_port);
  std::fflush(stdout);
  loop.Run();
  return 0;
}

// --- measurements (parent) ------------------------------------------------------------

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

// Plain connections are opened once, like the messenger's, so both sides are
// measured on warm, long-lived connections.
int DialPing(uint16_t port) {
  int fd = Dial(port);
  WriteAll(fd, "P", 1);
  return fd;
}
int DialSink(uint16_t port) {
  int fd = Dial(port);
  WriteAll(fd, "T", 1);
  return fd;
}

std::vector<double> PlainPings(int fd, int pings) {
  char buf[kPingBytes] = {};
  std::vector<double> us;
  us.reserve(pings);
  for (int i = 0; i < pings; ++i) {
    auto t0 = Clock::now();
    if (!WriteAll(fd, buf, sizeof buf) || !ReadAll(fd, buf, sizeof buf)) break;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  return us;
}

double PlainThroughput(int fd, size_t total) {
  static const std::vector<char> unit(kUnitBytes, 'x');
  auto t0 = Clock::now();
  uint64_t len = total;
  WriteAll(fd, reinterpret_cast<char*>(&len), sizeof len);
  for (size_t sent = 0; sent < total; sent += unit.size()) WriteAll(fd, unit.data(), unit.size());
  char k;
  ReadAll(fd, &k, 1);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  return total / secs / (1 << 20);
}

// Client-side messenger: pings chain from the reply's dispatch, on the loop.
class BenchClient : public msg::Dispatcher {
 public:
  void OnMessage(const msg::ConnectionRef& c, Message&&) override {
    auto now = Clock::now();
    if (pinging_) {
      us_.push_back(std::chrono::duration<double, std::micro>(now - t0_).count());
      if (static_cast<int>(us_.size()) < pings_) {
        SendPing(c);
        return;
      }
      pinging_ = false;
    }
    done_.set_value();
  }
  void SendPing(const msg::ConnectionRef& c) {
    proto::TestMsg h;
    h.set_sent_ns(1);
    t0_ = Clock::now();
    (void)c->Send(Message::Make(proto::MSG_TEST, h, ping_));
  }
  std::vector<double> RunPings(msg::TcpMessenger& m, const msg::ConnectionRef& c, int pings) {
    us_.clear();
    us_.reserve(pings);
    pings_ = pings;
    pinging_ = true;
    done_ = std::promise<void>();
    auto f = done_.get_future();
    m.loop().Post([this, c] { SendPing(c); });
    f.wait();
    return us_;
  }
  double RunThroughput(const msg::ConnectionRef& c, size_t total) {
    done_ = std::promise<void>();
    auto f = done_.get_future();
    auto t0 = Clock::now();
    size_t units = total / kUnitBytes;
    for (size_t i = 1; i <= units; ++i) {
      proto::TestMsg h;
      h.set_seq(i);
      h.set_sent_ns(i == units ? 1 : 0);
      Message m = Message::Make(proto::MSG_TEST, h, unit_);
      // 64 units are buffered (ms_max_buffered_bytes): a 1 ms nap never
      // starves the socket, and a shorter one only burns CPU.
      while (c->Send(m).code() == Code::kAgain) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    f.wait();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    return total / secs / (1 << 20);
  }

 private:
  Bytes ping_ = Bytes(std::string(kPingBytes, 'p'));
  Bytes unit_ = Bytes(std::string(kUnitBytes, 'x'));
  std::promise<void> done_;
  std::vector<double> us_;
  int pings_ = 0;
  bool pinging_ = false;
  Clock::time_point t0_;
};

int ParentMain(int rounds, int pings, size_t mib, const std::string& only) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return 1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::execl("/proc/self/exe", "msg_bench", "--child", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  char line[128] = {};
  size_t n = 0;
  while (n + 1 < sizeof line && ::read(out[0], line + n, 1) == 1 && line[n] != '\n') ++n;
  unsigned msg_port = 0, plain_port = 0;
  if (std::sscanf(line, "PORTS %u %u", &msg_port, &plain_port) != 2) {
    std::fprintf(stderr, "child did not start\n");
    ::kill(pid, SIGKILL);
    return 1;
  }

  AsioEventLoop loop;
  std::thread lt([&] { loop.Run(); });
  BenchClient client;
  auto m = std::make_unique<msg::TcpMessenger>(loop, kClient, Keys(), Secret(kClient), msg::TcpMessengerOptions{});
  m->SetDispatcher(&client);
  (void)m->Start();
  auto c = m->Connect(kServer, msg::EntityAddr{"127.0.0.1", static_cast<uint16_t>(msg_port)}, msg::Policy::kLossless);

  const size_t total = std::max<size_t>(1, mib / 4) * kUnitBytes;
  const int ping_fd = DialPing(plain_port), sink_fd = DialSink(plain_port);
  // Warm up both paths (connections, page cache, allocator).
  PlainPings(ping_fd, 200);
  client.RunPings(*m, c, 200);
  PlainThroughput(sink_fd, 8 * kUnitBytes);
  client.RunThroughput(c, 8 * kUnitBytes);

  // Rounds alternate plain and messenger in short slices so that load from
  // elsewhere on the machine falls on both alike; ratios are taken per round.
  const bool plain = only != "msg", messenger = only != "plain";
  std::vector<double> us_p, us_m, rtt_ratio, tp_p, tp_m, tp_ratio;
  for (int r = 0; r < rounds; ++r) {
    std::vector<double> a, b;
    for (int slice = 0; slice < 10; ++slice) {
      if (plain) for (double v : PlainPings(ping_fd, pings / 10)) a.push_back(v);
      if (messenger) for (double v : client.RunPings(*m, c, pings / 10)) b.push_back(v);
    }
    if (plain && messenger) rtt_ratio.push_back(Median(b) / Median(a));
    us_p.insert(us_p.end(), a.begin(), a.end());
    us_m.insert(us_m.end(), b.begin(), b.end());
    double x = plain ? PlainThroughput(sink_fd, total) : 0;
    double y = messenger ? client.RunThroughput(c, total) : 0;
    tp_p.push_back(x);
    tp_m.push_back(y);
    if (plain && messenger) tp_ratio.push_back(y / x);
  }
  ::close(ping_fd);
  ::close(sink_fd);
  m->Shutdown();
  loop.Stop();
  lt.join();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);

  const double rp = Median(us_p), rm = Median(us_m), tpp = Median(tp_p), tpm = Median(tp_m);
  const double rr = Median(rtt_ratio), tr = Median(tp_ratio);
  std::printf("msg_bench: %d rounds; per round %d pings of %zu B and %zu MiB in 4 MiB units, each side\n", rounds,
              pings, kPingBytes, total >> 20);
  std::printf("%-30s %14s %14s %10s\n", "measure", "plain socket", "messenger", "ratio");
  std::printf("%-30s %14.1f %14.1f %10.2f\n", "round trip 64 B, median us", rp, rm, rr);
  std::printf("%-30s %14.1f %14.1f %10.2f\n", "round trip 64 B, p99 us", Percentile(us_p, 0.99),
              Percentile(us_m, 0.99), Percentile(us_m, 0.99) / Percentile(us_p, 0.99));
  std::printf("%-30s %14.0f %14.0f %10.2f\n", "throughput 4 MiB, MiB/s", tpp, tpm, tr);
  std::printf("(ratios: median over rounds of messenger/plain measured back to back)\n");
  std::printf(
      "{\"bench\":\"msg\",\"rounds\":%d,\"rtt_us_plain\":%.2f,\"rtt_us_msg\":%.2f,\"rtt_ratio\":%.3f,"
      "\"tput_mibs_plain\":%.1f,\"tput_mibs_msg\":%.1f,\"tput_ratio\":%.3f,"
      "\"target_rtt_ratio_max\":1.5,\"target_tput_ratio_min\":0.8}\n",
      rounds, rp, rm, rr, tpp, tpm, tr);
  return 0;
}

}  // namespace
}  // namespace nacre::bench

int main(int argc, char** argv) {
  int rounds = 5, pings = 10000;
  size_t mib = 512;
  std::string only;  // "plain" or "msg": one side only, for profiling
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--child") return nacre::bench::ChildMain();
    if (i + 1 < argc && a == "--rounds") rounds = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--pings") pings = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--mib") mib = std::strtoull(argv[++i], nullptr, 10);
    else if (i + 1 < argc && a == "--only") only = argv[++i];
  }
  return nacre::bench::ParentMain(rounds, pings, mib, only);
}
