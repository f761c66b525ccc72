// msg_test_peer: a messenger endpoint in its own process, for tests that
// kill -9 and restart one side.
//
//   msg_test_peer --name osd.p --port P [--record FILE] [--key ENTITY]...
//
// Listens on 127.0.0.1:P (0 picks a port), prints "PORT <n>" once it
// listens, then serves until killed. Every MSG_TEST it receives is checked
// (payload crc, seq exactly one more than the last on that connection) and
// its seq appended to FILE as one line, with write(2) before OnMessage
// returns: so whatever the messenger acknowledged is on record even after a
// kill -9. A violation is recorded as a line "ERR ...".
// The seq checked is the application's (TestMsg.seq), not the messenger's.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/asio_event_loop.h"
#include "common/msg/msg_test_util.h"
#include "common/msg/tcp_messenger.h"

namespace nacre::msg::test {
namespace {

class RecordDispatcher : public Dispatcher {
 public:
  explicit RecordDispatcher(int fd) : fd_(fd) {}

  void OnMessage(const ConnectionRef& con, Message&& m) override {
    auto seq = CheckTestMessage(m);
    uint64_t& last = last_[con.get()];
    std::string line;
    if (!seq.ok()) line = "ERR " + seq.status().ToString() + "\n";
    // The first message on a connection may start anywhere: after a restart
    // the sender resumes from its first unacknowledged message.
    else if (last != 0 && *seq != last + 1) line = "ERR expected " + std::to_string(last + 1) + " got " + std::to_string(*seq) + "\n";
    else line = std::to_string(*seq) + "\n";
    if (seq.ok()) last = *seq;
    if (fd_ >= 0) Write(line);
  }
  // A remote reset means the sender starts over at seq 1 of its resend.
  void OnRemoteReset(const ConnectionRef& con) override { last_.erase(con.get()); }

 private:
  void Write(const std::string& s) {
    const char* p = s.data();
    size_t n = s.size();
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w <= 0) return;
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  int fd_;
  std::map<const Connection*, uint64_t> last_;
};

int Main(int argc, char** argv) {
  std::string name = "osd.peer", record;
  int port = 0;
  std::vector<std::string> keys;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--name") name = v;
    else if (k == "--port") port = std::atoi(v.c_str());
    else if (k == "--record") record = v;
    else if (k == "--key") keys.push_back(v);
    else {
      std::fprintf(stderr, "unknown argument %s\n", k.c_str());
      return 2;
    }
  }
  int fd = -1;
  if (!record.empty()) {
    fd = ::open(record.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::perror("open record");
      return 1;
    }
  }
  AsioEventLoop loop;
  RecordDispatcher d(fd);
  TcpMessenger m(loop, name, TestKeys(keys), TestSecret(name), FastOptions());
  m.SetDispatcher(&d);
  Status s = m.Bind(EntityAddr{"127.0.0.1", static_cast<uint16_t>(port)});
  if (!s.ok()) {
    std::fprintf(stderr, "bind: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!m.Start().ok()) return 1;
  std::printf("PORT %u\n", m.my_addr().port);
  std::fflush(stdout);
  loop.Run();
  return 0;
}

}  // namespace
}  // namespace nacre::msg::test

int main(int argc, char** argv) { return nacre::msg::test::Main(argc, argv); }
