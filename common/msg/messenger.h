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
//
// Precisely (what TcpMessenger guarantees, and SimMessenger should model):
// - Order: per connection, messages are dispatched in the order their Send
//   calls returned OK. There is no order between two connections, including
//   A->B and B->A (each Connect makes its own connection).
// - Acknowledgement: the receiver acknowledges message n only after its
//   OnMessage(n) has returned. A message is "accepted" once Send returned OK.
// - Lossless, both processes alive, no MarkDown: every accepted message is
//   dispatched exactly once, in order, however often the socket fails
//   (duplicates from resends are dropped by sequence number).
// - Lossless, peer restarted (a new incarnation, noticed in the handshake):
//   the connecting side gets OnRemoteReset, then every accepted message the
//   old incarnation had not acknowledged is sent again, in order, to the new
//   one, whose numbering starts afresh. So nothing accepted is lost while the
//   sender lives; a message the old incarnation dispatched but had not yet
//   acknowledged when it died is dispatched again by the new one (at least
//   once across a restart).
// - Only the side that called Connect reconnects. The accepting side keeps a
//   lossless session across socket faults (queuing Sends) until the
//   initiator returns. When the initiator comes back as a new incarnation,
//   the accepting side's old session gets OnRemoteReset then OnReset and its
//   queue is dropped; the new session arrives with OnConnect.
// - Lossy: on any fault the connection closes for good with OnReset; queued
//   messages are dropped, and messages already written may or may not have
//   been dispatched.
// - Refusal: a handshake refused by either side (wrong key, unknown entity,
//   wrong peer name, replay) is final for both policies: OnReset on the
//   connecting side, nothing dispatched and no OnConnect on either side.
// - OnConnect follows every completed handshake on both sides, so a lossless
//   connection reports each reconnection.
// - Send fails with kShutdown once the connection is closed, kAgain while its
//   buffer is full (retry later), kTooBig for a message that can never be
//   sent (over the frame or buffer limit), kInvalid for a non-data type.
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
