// Messenger: authenticated, ordered message delivery between entities.
//
// Two implementations share this interface: TcpMessenger (Boost.Asio over real
// sockets, common/msg/tcp_messenger.h) and SimMessenger (the deterministic
// simulator, common/sim/). Daemon code is written against this interface only.
//
// Semantics:
// - Messages on one connection are dispatched in the order they were sent.
// - A kLossless connection (daemon to daemon) survives socket faults: it
//   reconnects with backoff and resends what the peer has not acknowledged,
//   so the application sees every message exactly once while both processes
//   live. If the peer process restarted, OnRemoteReset is called and the
//   messages the old incarnation did not acknowledge are resent to the new.
// - A kLossy connection (client to daemon) is dropped on any fault; its
//   queued messages are discarded and OnReset tells the application, which
//   retries at its own level (librados resends to the current primary).
// - Every callback runs on the messenger's EventLoop.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/event_loop.h"
#include "common/msg/message.h"
#include "common/status.h"

namespace nacre::msg {

enum class Policy { kLossy, kLossless };

class Connection {
 public:
  virtual ~Connection() = default;
  // The authenticated entity at the other end ("osd.3"); empty until the
  // handshake completes on an accepted connection.
  virtual const std::string& peer_name() const = 0;
  virtual EntityAddr peer_addr() const = 0;
  virtual Policy policy() const = 0;
  // Queues m for sending. Safe from any thread. Fails when the connection was
  // marked down or the per-connection buffer limit would be exceeded.
  virtual Status Send(Message m) = 0;
  // Closes the connection for good; a lossless connection stops reconnecting.
  virtual void MarkDown() = 0;
  virtual bool IsOpen() const = 0;
};
using ConnectionRef = std::shared_ptr<Connection>;

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual void OnMessage(const ConnectionRef& con, Message&& m) = 0;
  // The handshake completed (both directions).
  virtual void OnConnect(const ConnectionRef&) {}
  // A lossy connection failed, or a connection was marked down.
  virtual void OnReset(const ConnectionRef&) {}
  // A lossless peer came back as a new process incarnation.
  virtual void OnRemoteReset(const ConnectionRef&) {}
};

// Looks up the shared secret of an entity (for the handshake). Daemons back
// it with their keyring; the monitors with the Auth map.
using KeyLookup = std::function<Result<std::string>(const std::string& entity)>;

class Messenger {
 public:
  virtual ~Messenger() = default;

  virtual const std::string& my_name() const = 0;
  // Binds the listening socket; port 0 picks a free port (see my_addr()).
  virtual Status Bind(const EntityAddr& addr) = 0;
  virtual EntityAddr my_addr() const = 0;
  virtual void SetDispatcher(Dispatcher* d) = 0;
  virtual Status Start() = 0;
  // Closes every connection; no callback runs after Shutdown returns.
  virtual void Shutdown() = 0;

  // The connection to `peer_name` at `addr`, created on first use. The
  // handshake checks that the other end really is `peer_name`.
  virtual ConnectionRef Connect(const std::string& peer_name, const EntityAddr& addr, Policy policy) = 0;

  virtual EventLoop& loop() = 0;
};

}  // namespace nacre::msg
