#include "common/msg/msg_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <random>

#include "common/crc32c.h"
#include "proto/messenger.pb.h"

namespace nacre::msg::test {

namespace {

int64_t MsLeft(std::chrono::steady_clock::time_point end) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
  return left < 0 ? 0 : left;
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

}  // namespace


LoopThread::LoopThread() : thread_([this] { loop_.Run(); }) {}

LoopThread::~LoopThread() {
  loop_.Stop();
  thread_.join();
}

void LoopThread::RunSync(const std::function<void()>& fn) {
  std::promise<void> done;
  loop_.Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

std::string TestSecret(const std::string& entity) {
  // 32 bytes derived from the name: distinct per entity, stable across the
  // test process and its helper processes.
  std::string s(kNonceBytes, '\0');
  uint32_t h = Crc32c(entity);
  for (size_t i = 0; i < s.size(); ++i) {
    h = h * 1664525u + 1013904223u;
    s[i] = static_cast<char>(h >> 24);
  }
  return s;
}

KeyLookup TestKeys(std::vector<std::string> entities) {
  return [entities = std::move(entities)](const std::string& e) -> Result<std::string> {
    for (const auto& k : entities)
      if (k == e) return TestSecret(e);
    return NotFound("no key for " + e);
  };
}

TcpMessengerOptions FastOptions() {
  TcpMessengerOptions o;
  o.keepalive_interval = 200ms;
  o.connection_timeout = 5s;
  o.connect_timeout = 5s;
  o.backoff_min = 10ms;
  o.backoff_max = 200ms;
  return o;
}

// --- RecordingDispatcher ---------------------------------------------------------

void RecordingDispatcher::OnMessage(const ConnectionRef& con, Message&& m) {
  if (on_message) on_message(con, m);
  std::lock_guard<std::mutex> g(mu_);
  ++count_;
  last_ = con;
  if (keep_) msgs_.push_back(std::move(m));
}

void RecordingDispatcher::OnConnect(const ConnectionRef& con) {
  std::lock_guard<std::mutex> g(mu_);
  ++connects_;
  last_ = con;
}

void RecordingDispatcher::OnReset(const ConnectionRef&) {
  std::lock_guard<std::mutex> g(mu_);
  ++resets_;
}

void RecordingDispatcher::OnRemoteReset(const ConnectionRef&) {
  std::lock_guard<std::mutex> g(mu_);
  ++remote_resets_;
}

size_t RecordingDispatcher::messages() const {
  std::lock_guard<std::mutex> g(mu_);
  return count_;
}
size_t RecordingDispatcher::connects() const {
  std::lock_guard<std::mutex> g(mu_);
  return connects_;
}
size_t RecordingDispatcher::resets() const {
  std::lock_guard<std::mutex> g(mu_);
  return resets_;
}
size_t RecordingDispatcher::remote_resets() const {
  std::lock_guard<std::mutex> g(mu_);
  return remote_resets_;
}
std::vector<Message> RecordingDispatcher::TakeMessages() {
  std::lock_guard<std::mutex> g(mu_);
  return std::move(msgs_);
}
ConnectionRef RecordingDispatcher::last_connection() const {
  std::lock_guard<std::mutex> g(mu_);
  return last_;
}
void RecordingDispatcher::set_keep(bool keep) {
  std::lock_guard<std::mutex> g(mu_);
  keep_ = keep;
}

// --- RawSocket -------------------------------------------------------------------

std::unique_ptr<RawSocket> RawSocket::Connect(const EntityAddr& addr) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  sockaddr_in sa = Loopback(addr.port);
  if (inet_pton(AF_INET, addr.host.c_str(), &sa.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return nullptr;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return std::unique_ptr<RawSocket>(new RawSocket(fd));
}

RawSocket::~RawSocket() { ::close(fd_); }

bool RawSocket::SendBytes(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawSocket::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

Result<Frame> RawSocket::ReadFrame(std::chrono::milliseconds timeout, bool skip_control) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    while (!pending_.empty()) {
      NACRE_ASSIGN_OR_RETURN(size_t used, decoder_.Feed(pending_.data(), pending_.size()));
      pending_.erase(0, used);
      if (decoder_.has_frame()) {
        Frame f = decoder_.TakeFrame();
        if (skip_control && (f.msg.type == proto::MSG_KEEPALIVE || f.msg.type == proto::MSG_ACK)) continue;
        return f;
      }
    }
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(MsLeft(end)));
    if (r == 0) return TimedOut("no frame in time");
    if (r < 0 && errno == EINTR) continue;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IOError("closed by peer");
    pending_.append(buf, static_cast<size_t>(n));
  }
}

bool RawSocket::WaitClosed(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int left = static_cast<int>(MsLeft(end));
    int r = ::poll(&p, 1, left);
    if (r == 0) return false;
    if (r < 0 && errno == EINTR) continue;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return true;  // reset counts as closed
  }
}

Result<RawHandshake> DoRawHandshake(RawSocket* s, const std::string& my_name, const std::string& my_secret,
                                    const std::string& peer_name, Policy policy) {
  RawHandshake rec;
  ClientHandshake::Params p;
  p.my_name = my_name;
  p.my_secret = my_secret;
  p.my_incarnation = NewIncarnation();
  p.peer_name = peer_name;
  p.conn_id = 1;
  p.policy = policy;
  ClientHandshake hs(p, WallClockNs());
  rec.hello = hs.Hello();
  if (!s->SendFrame(FrameMeta{rec.hello.type, 0, 0}, rec.hello)) return IOError("send hello");
  NACRE_ASSIGN_OR_RETURN(Frame c, s->ReadFrame());
  rec.challenge = c.msg;
  NACRE_ASSIGN_OR_RETURN(rec.auth, hs.OnChallenge(c.msg, 0));
  if (!s->SendFrame(FrameMeta{rec.auth.type, 0, 0}, rec.auth)) return IOError("send auth");
  NACRE_ASSIGN_OR_RETURN(Frame d, s->ReadFrame());
  rec.auth_done = d.msg;
  NACRE_RETURN_IF_ERROR(hs.OnAuthDone(d.msg).status());
  return rec;
}

// --- RawListener -------------------------------------------------------------------

RawListener::RawListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = Loopback(0);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd_, 16) == 0) {
    socklen_t len = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
  }
}

RawListener::~RawListener() { ::close(fd_); }

std::unique_ptr<RawSocket> RawListener::Accept(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return nullptr;
  int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return nullptr;
  return std::unique_ptr<RawSocket>(new RawSocket(fd));
}

uint16_t FreePort() {
  RawListener l;
  return l.port();
}

// --- ChildProcess ----------------------------------------------------------------------

std::unique_ptr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return nullptr;
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return nullptr;
  }
  if (pid == 0) {
    // Die with the test, even if it is killed before its destructors run.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  auto c = std::unique_ptr<ChildProcess>(new ChildProcess());
  c->pid_ = pid;
  c->out_fd_ = pipefd[0];
  return c;
}

ChildProcess::~ChildProcess() {
  Kill9();
  if (out_fd_ >= 0) ::close(out_fd_);
}

void ChildProcess::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

Result<std::string> ChildProcess::ReadLine(const std::string& prefix, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t nl;
    while ((nl = buf_.find('\n')) != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    }
    pollfd p{out_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(MsLeft(end)));
    if (r == 0) return TimedOut("child printed no '" + prefix + "' line");
    if (r < 0 && errno == EINTR) continue;
    char b[4096];
    ssize_t n = ::read(out_fd_, b, sizeof b);
    if (n <= 0) return IOError("child closed stdout before '" + prefix + "'");
    buf_.append(b, static_cast<size_t>(n));
  }
}

// --- payloads -----------------------------------------------------------------------------

PayloadSource::PayloadSource(uint64_t seed, size_t max_size) : seed_(seed), max_size_(max_size) {
  std::string s(max_size + 4096, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= s.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  buf_ = Bytes(std::move(s));
}

Bytes PayloadSource::For(uint64_t seq) const {
  std::mt19937_64 rng(seed_ ^ (seq * 0x9e3779b97f4a7c15ull));
  uint64_t r = rng() % 1000;
  size_t len;
  if (r < 950) len = rng() % 2048;                              // mostly small
  else if (r < 998) len = rng() % std::min<size_t>(max_size_, 65536);  // some medium
  else len = max_size_ / 2 + rng() % (max_size_ / 2 + 1);      // a few near the maximum
  if (len > max_size_) len = max_size_;
  size_t off = rng() % 4096;
  return buf_.Slice(off, len);
}

Message TestMessage(uint64_t seq, Bytes payload) {
  proto::TestMsg h;
  h.set_seq(seq);
  h.set_payload_crc(Crc32c(payload.view()));
  return Message::Make(proto::MSG_TEST, h, std::move(payload));
}

Result<uint64_t> CheckTestMessage(const Message& m) {
  if (m.type != proto::MSG_TEST) return Invalid("not a MSG_TEST: " + std::to_string(m.type));
  proto::TestMsg h;
  if (!m.ParseHeader(&h)) return Corruption("bad TestMsg header");
  if (Crc32c(m.payload.view()) != h.payload_crc()) return Corruption("payload crc mismatch at seq " + std::to_string(h.seq()));
  return h.seq();
}

Status SendWithRetry(const ConnectionRef& c, Message m, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  auto nap = std::chrono::microseconds(50);
  for (;;) {
    // Send consumes its argument only on success; keep a cheap copy to retry.
    Status s = c->Send(m);
    if (s.code() != Code::kAgain) return s;
    if (std::chrono::steady_clock::now() >= end) return s;
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::microseconds(5000));
  }
}

}  // namespace nacre::msg::test
