// Test helpers for the messenger tests: a loop on its own thread, condition
// waits with deadlines, a recording dispatcher, a raw (blocking) frame socket
// that can speak or abuse the protocol, and child processes that are always
// killed and reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/asio_event_loop.h"
#include "common/msg/frame.h"
#include "common/msg/handshake.h"
#include "common/msg/messenger.h"
#include "common/msg/tcp_messenger.h"
#include "common/wait_for.h"

namespace nacre::msg::test {

using namespace std::chrono_literals;

// Generous: the tests run on a loaded 2-core machine.
inline constexpr auto kDeadline = std::chrono::seconds(60);

// An AsioEventLoop running on its own thread until destruction.
class LoopThread {
 public:
  LoopThread();
  ~LoopThread();
  AsioEventLoop& loop() { return loop_; }
  // Runs fn on the loop thread and waits for it.
  void RunSync(const std::function<void()>& fn);

 private:
  AsioEventLoop loop_;
  std::thread thread_;
};

// Fixed, distinct secrets per entity for tests.
std::string TestSecret(const std::string& entity);
// A KeyLookup knowing exactly `entities`.
KeyLookup TestKeys(std::vector<std::string> entities);
// Options with short timers, so fault paths run quickly in tests.
TcpMessengerOptions FastOptions();

// Records every callback; thread-safe to inspect from the test thread.
class RecordingDispatcher : public Dispatcher {
 public:
  void OnMessage(const ConnectionRef& con, Message&& m) override;
  void OnConnect(const ConnectionRef& con) override;
  void OnReset(const ConnectionRef& con) override;
  void OnRemoteReset(const ConnectionRef& con) override;

  // Optional hook run for each message (on the loop thread).
  std::function<void(const ConnectionRef&, const Message&)> on_message;

  size_t messages() const;
  size_t connects() const;
  size_t resets() const;
  size_t remote_resets() const;
  std::vector<Message> TakeMessages();
  ConnectionRef last_connection() const;
  // False: count messages but do not keep them (large streams).
  void set_keep(bool keep);

 private:
  mutable std::mutex mu_;
  std::vector<Message> msgs_;
  size_t connects_ = 0, resets_ = 0, remote_resets_ = 0;
  size_t count_ = 0;
  ConnectionRef last_;
  bool keep_ = true;
};

// A blocking TCP socket that reads and writes frames, for tests that must
// put arbitrary bytes on the wire.
class RawSocket {
 public:
  static std::unique_ptr<RawSocket> Connect(const EntityAddr& addr);
  ~RawSocket();

  bool SendBytes(std::string_view bytes);
  bool SendFrame(const FrameMeta& meta, const Message& m) { return SendBytes(EncodeFrame(meta, m)); }
  // Next frame, skipping keepalives/acks when `skip_control`; error on EOF,
  // timeout or a bad frame.
  Result<Frame> ReadFrame(std::chrono::milliseconds timeout = kDeadline, bool skip_control = true);
  // True once the peer has closed the socket (EOF or reset) within `timeout`;
  // frames received meanwhile are discarded.
  bool WaitClosed(std::chrono::milliseconds timeout = kDeadline);
  void ShutdownWrite();
  int fd() const { return fd_; }

 private:
  friend class RawListener;
  explicit RawSocket(int fd) : fd_(fd), decoder_(FrameLimits{}) {}
  int fd_;
  FrameDecoder decoder_;
  std::string pending_;
};

// A full client handshake over a RawSocket; the frames exchanged are kept so
// tests can replay them.
struct RawHandshake {
  Message hello, challenge, auth, auth_done;
};
Result<RawHandshake> DoRawHandshake(RawSocket* s, const std::string& my_name, const std::string& my_secret,
                                    const std::string& peer_name, Policy policy);

// A listening socket on 127.0.0.1 with a free port, for fake servers.
class RawListener {
 public:
  RawListener();
  ~RawListener();
  uint16_t port() const { return port_; }
  std::unique_ptr<RawSocket> Accept(std::chrono::milliseconds timeout = kDeadline);

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A child process; killed with SIGKILL and reaped on destruction.
class ChildProcess {
 public:
  // Starts `argv` (argv[0] is the path) with stdout on a pipe.
  static std::unique_ptr<ChildProcess> Spawn(const std::vector<std::string>& argv);
  ~ChildProcess();

  // Reads stdout until a line starting with `prefix`; returns the rest of it.
  Result<std::string> ReadLine(const std::string& prefix, std::chrono::milliseconds timeout = kDeadline);
  void Kill9();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buf_;
};

// A free TCP port on 127.0.0.1 (bound with port 0, then released).
uint16_t FreePort();

// Deterministic test payloads: message `seq` of a stream carries a slice of
// one shared random buffer, so senders never copy and receivers can compare
// every byte.
class PayloadSource {
 public:
  PayloadSource(uint64_t seed, size_t max_size);
  // Mostly small, sometimes up to max_size.
  Bytes For(uint64_t seq) const;
  bool Matches(uint64_t seq, const Bytes& got) const { return For(seq) == got; }

 private:
  uint64_t seed_;
  size_t max_size_;
  Bytes buf_;
};

// A MSG_TEST message: header TestMsg{seq, crc32c(payload)}.
Message TestMessage(uint64_t seq, Bytes payload);
// Checks a MSG_TEST message's header crc against its payload; returns its seq.
Result<uint64_t> CheckTestMessage(const Message& m);

// Sends with retry while the connection's buffer is full (kAgain).
Status SendWithRetry(const ConnectionRef& c, Message m, std::chrono::milliseconds deadline = kDeadline);

}  // namespace nacre::msg::test
