// TcpMessenger: the msg::Messenger of real daemons, over TCP with Boost.Asio.
//
// One messenger per entity and per AsioEventLoop. It listens (Bind/Start),
// authenticates every socket with the handshake of handshake.h, and runs one
// TcpConnection (tcp_connection.h) per session. Everything — sockets,
// timers, dispatch — happens on the loop's thread; Connect, Send, MarkDown
// and Shutdown may be called from any thread.
//
// Limits: frames over ms_max_frame_bytes or with a header over
// ms_max_header_bytes are refused on both ends; each connection buffers at
// most ms_max_buffered_bytes for sending (Send then fails with kAgain, or
// kTooBig for a message that could never fit); at most max_pending_accepts
// sockets may be mid-handshake and at most max_sessions accepted sessions
// are kept. A socket that misbehaves (bad frame, bad auth, silence) is
// closed with a logged reason; other connections are unaffected.
//
// Shutdown contract: call it on the loop thread, or from another thread
// while the loop runs (it waits for the loop to do the teardown), or after
// the loop has stopped (and its thread finished), or when the loop never ran
// (a daemon that failed before Run(): it then waits 200 ms to be sure).
// After it returns no Dispatcher callback runs. The destructor calls it.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include <boost/asio/ip/tcp.hpp>

#include "common/asio_event_loop.h"
#include "common/config.h"
#include "common/metrics.h"
#include "common/msg/frame.h"
#include "common/msg/handshake.h"
#include "common/msg/messenger.h"

namespace nacre::msg {

class TcpConnection;
class AcceptedHandshake;
class FramePipe;
struct Listener;

struct TcpMessengerOptions {
  using Duration = std::chrono::nanoseconds;

  FrameLimits limits;
  size_t max_buffered_bytes = 256u << 20;
  Duration keepalive_interval = std::chrono::seconds(1);
  Duration connection_timeout = std::chrono::seconds(10);
  Duration connect_timeout = std::chrono::seconds(5);
  Duration backoff_min = std::chrono::milliseconds(50);
  Duration backoff_max = std::chrono::seconds(2);
  Duration handshake_max_skew = std::chrono::seconds(300);
  // Fault injection for tests: close a socket about once every N data
  // messages written; 0 is off.
  int inject_socket_failures = 0;
  size_t max_pending_accepts = 256;
  size_t max_sessions = 4096;
  size_t replay_cache_entries = 65536;

  // The ms_* options of the config table.
  static TcpMessengerOptions FromConfig(const Config& c);
};

class TcpMessenger final : public Messenger {
 public:
  // `peer_keys` finds the secret of an entity connecting to us; `my_secret`
  // is ours, proven to the peers we connect to.
  TcpMessenger(AsioEventLoop& loop, std::string my_name, KeyLookup peer_keys, std::string my_secret,
               TcpMessengerOptions opts);
  ~TcpMessenger() override;

  const std::string& my_name() const override { return my_name_; }
  // Renames the messenger before Start(): an OSD binds its address first
  // (the monitors need it to assign an id) and learns its name ("osd.3")
  // from the boot reply. kInvalid once started.
  Status SetName(std::string name);
  Status Bind(const EntityAddr& addr) override;
  EntityAddr my_addr() const override;
  void SetDispatcher(Dispatcher* d) override { dispatcher_.store(d); }
  Status Start() override;
  void Shutdown() override;
  ConnectionRef Connect(const std::string& peer_name, const EntityAddr& addr, Policy policy) override;
  EventLoop& loop() override { return loop_; }

  // This messenger's incarnation: peers use it to notice that we restarted.
  uint64_t incarnation() const { return incarnation_; }
  const TcpMessengerOptions& options() const { return opts_; }

  // Counters, for tests and diagnostics.
  struct Stats {
    uint64_t msgs_sent = 0;        // data frames written (resends included)
    uint64_t msgs_dispatched = 0;  // data messages handed to the dispatcher
    uint64_t duplicates_dropped = 0;
    uint64_t resent = 0;           // data frames written again after a reconnect
    uint64_t faults = 0;           // sockets closed on error or timeout
    uint64_t auth_refusals = 0;    // handshakes refused, by either side
    uint64_t handshakes = 0;       // handshakes completed
    uint64_t remote_resets = 0;
  };
  Stats stats() const;

 private:
  friend class TcpConnection;
  friend class AcceptedHandshake;

  // A per-messenger count that also feeds the process's metrics registry
  // (every daemon serves it at /metrics); stats() reads the local one.
  class StatCounter {
   public:
    StatCounter(const char* name, const char* help) : global_(Metrics().GetCounter(name, help)) {}
    void operator++(int) { *this += 1; }
    StatCounter& operator+=(uint64_t n) {
      v_.fetch_add(n, std::memory_order_relaxed);
      global_->Inc(n);
      return *this;
    }
    uint64_t load() const { return v_.load(std::memory_order_relaxed); }

   private:
    std::atomic<uint64_t> v_{0};
    Counter* global_;
  };
  struct AtomicStats {
    StatCounter msgs_sent{"nacre_ms_messages_sent_total", "data frames written, resends included"};
    StatCounter msgs_dispatched{"nacre_ms_messages_dispatched_total", "messages handed to the application"};
    StatCounter duplicates_dropped{"nacre_ms_duplicates_dropped_total", "resent messages already dispatched"};
    StatCounter resent{"nacre_ms_resent_total", "data frames written again after a reconnect"};
    StatCounter faults{"nacre_ms_faults_total", "sockets closed on error or timeout"};
    StatCounter auth_refusals{"nacre_ms_auth_refusals_total", "handshakes refused, by either side"};
    StatCounter handshakes{"nacre_ms_handshakes_total", "handshakes completed"};
    StatCounter remote_resets{"nacre_ms_remote_resets_total", "peers that came back as a new incarnation"};
  };
  // An accepted session is named by who opened it and which of its sessions.
  using SessionKey = std::tuple<std::string, uint64_t, uint64_t>;  // peer, incarnation, conn_id
  using OutKey = std::tuple<std::string, EntityAddr, Policy>;

  void StartAccept();
  void OnAccept(boost::asio::ip::tcp::socket sock);
  // Loop thread: a handshake on an accepted pipe succeeded.
  void OnHandshakeAccepted(const std::shared_ptr<AcceptedHandshake>& hs, const std::shared_ptr<FramePipe>& pipe,
                           const ServerHandshake& server);
  void ForgetPending(const AcceptedHandshake* hs);
  // A session closed for good: drop it from the maps.
  void Forget(const TcpConnection* c);
  void DoShutdown();

  // Dispatcher calls, all on the loop thread, none after Shutdown began.
  void DeliverMessage(const std::shared_ptr<TcpConnection>& c, Message&& m);
  void NotifyConnect(const std::shared_ptr<TcpConnection>& c);
  void NotifyReset(const std::shared_ptr<TcpConnection>& c);
  void NotifyRemoteReset(const std::shared_ptr<TcpConnection>& c);
  bool InjectFailure();

  AsioEventLoop& loop_;
  std::string my_name_;  // fixed once started (SetName)
  bool started_ = false;
  const KeyLookup peer_keys_;
  const std::string my_secret_;
  const TcpMessengerOptions opts_;
  const uint64_t incarnation_;
  std::atomic<Dispatcher*> dispatcher_{nullptr};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shutdown_done_{false};
  // Set by the first handler the loop runs for us (see Shutdown).
  std::shared_ptr<std::atomic<bool>> loop_seen_ = std::make_shared<std::atomic<bool>>(false);
  AtomicStats stats_;

  std::shared_ptr<Listener> listener_;
  ReplayCache replay_;    // loop thread only
  std::minstd_rand rng_;  // loop thread only (fault injection)

  mutable std::mutex mu_;  // guards the maps and next_conn_id_
  uint64_t next_conn_id_ = 1;
  std::map<OutKey, std::shared_ptr<TcpConnection>> outgoing_;
  std::map<SessionKey, std::shared_ptr<TcpConnection>> accepted_;
  std::map<const AcceptedHandshake*, std::shared_ptr<AcceptedHandshake>> pending_;
};

}  // namespace nacre::msg
