// Handshake: mutual authentication of a new messenger socket, as pure logic.
//
// The exchange (frames of proto/messenger.proto, before any data frame):
//
//   client -> server  MSG_HELLO      MsHello: names, client nonce, incarnation,
//                                    wall-clock timestamp, conn_id, policy
//   server -> client  MSG_CHALLENGE  MsChallenge: server nonce, incarnation,
//                                    proof_s = HMAC(K, "server" | transcript)
//   client -> server  MSG_AUTH       MsAuth: proof_c = HMAC(K, "client" | transcript)
//   server -> client  MSG_AUTH_DONE  MsAuthDone: verdict, resume point
//
// K is the secret of the connecting (client) entity: the client has it as its
// own key, the server looks it up (KeyLookup). The transcript holds both
// names, both nonces, both incarnations, the client timestamp, conn_id and
// policy, so a proof is bound to this one exchange. The two proofs are
// domain-separated ("server"/"client"), so neither side can be used as an
// oracle for the other's proof.
//
// Replays: the server nonce is fresh per socket, so a recorded MSG_AUTH never
// matches a new challenge; the client nonce is fresh per attempt, so a
// recorded MSG_CHALLENGE never verifies; and the server remembers the client
// nonces of completed handshakes for ms_handshake_max_skew and refuses a
// hello that reuses one or whose timestamp is outside that window.
//
// Nothing here touches a socket or a clock: callers pass the time in, which
// is what makes every refusal unit-testable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/msg/message.h"
#include "common/msg/messenger.h"
#include "common/status.h"

namespace nacre::msg {

inline constexpr uint32_t kHandshakeVersion = 1;
inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kProofBytes = 32;  // HMAC-SHA256
inline constexpr size_t kMaxEntityNameBytes = 256;

// Everything both proofs cover.
struct HandshakeTranscript {
  std::string client_name;
  std::string server_name;
  std::string client_nonce;
  std::string server_nonce;
  uint64_t client_incarnation = 0;
  uint64_t server_incarnation = 0;
  int64_t client_ts_ns = 0;
  uint64_t conn_id = 0;
  uint32_t policy = 0;

  // Length-prefixed fields: no two transcripts serialize alike.
  std::string Serialize() const;
};

enum class ProofRole { kClient, kServer };

std::string ComputeProof(std::string_view secret, ProofRole role, const HandshakeTranscript& t);
// Constant-time comparison.
bool VerifyProof(std::string_view secret, ProofRole role, const HandshakeTranscript& t, std::string_view proof);

// kNonceBytes from OpenSSL's CSPRNG.
std::string RandomNonce();
// A random, non-zero identifier of this process lifetime (or messenger
// instance): a peer that sees it change knows our session state is gone.
uint64_t NewIncarnation();

// ReplayCache: client nonces of completed handshakes, kept for `window_ns`.
//
// Bounded: at `capacity` the entry with the oldest timestamp is evicted and
// its timestamp becomes a floor; hellos stamped at or below the floor are
// refused. So a nonce is either remembered or its hello is refused, and
// there is no way to replay by flooding the cache.
class ReplayCache {
 public:
  ReplayCache(int64_t window_ns, size_t capacity) : window_ns_(window_ns), capacity_(capacity) {}

  // kPermission when the hello is outside the window or reuses a nonce.
  Status Check(std::string_view nonce, int64_t ts_ns, int64_t now_ns);
  // Check, then remember the nonce; the atomic form used on completion.
  Status Admit(std::string_view nonce, int64_t ts_ns, int64_t now_ns);
  size_t size() const { return by_nonce_.size(); }

 private:
  void Expire(int64_t now_ns);

  int64_t window_ns_;
  size_t capacity_;
  int64_t floor_ns_ = INT64_MIN;
  std::unordered_map<std::string, int64_t> by_nonce_;
  std::multimap<int64_t, std::string> by_ts_;
};

// What the client learns from a completed handshake.
struct ClientHandshakeResult {
  uint64_t peer_incarnation = 0;
  uint64_t peer_in_seq = 0;  // last seq the server dispatched from us
  bool new_session = false;
};

// ClientHandshake: the connecting side, one instance per socket attempt.
class ClientHandshake {
 public:
  struct Params {
    std::string my_name;
    std::string my_secret;
    uint64_t my_incarnation = 0;
    std::string peer_name;  // whom we mean to reach
    uint64_t conn_id = 0;
    Policy policy = Policy::kLossy;
  };
  ClientHandshake(Params p, int64_t now_ns);

  // The MSG_HELLO to send first.
  Message Hello() const;
  // Verifies MSG_CHALLENGE (identity, proof). Returns the MSG_AUTH to send;
  // `in_seq` is the last seq we dispatched on the session being resumed.
  Result<Message> OnChallenge(const Message& m, uint64_t in_seq);
  // MSG_AUTH_DONE: the verdict. kPermission when the server refused us.
  Result<ClientHandshakeResult> OnAuthDone(const Message& m) const;

  uint64_t peer_incarnation() const { return transcript_.server_incarnation; }

 private:
  Params p_;
  HandshakeTranscript transcript_;
  bool challenged_ = false;
};

// ServerHandshake: the accepting side, one instance per accepted socket.
class ServerHandshake {
 public:
  struct Params {
    std::string my_name;
    uint64_t my_incarnation = 0;
    const KeyLookup* keys = nullptr;  // secrets of connecting entities
    ReplayCache* replay = nullptr;    // shared by all sockets of a messenger
    int64_t max_skew_ns = 0;
  };
  explicit ServerHandshake(Params p) : p_(std::move(p)) {}

  // MSG_HELLO -> the MSG_CHALLENGE to send, or a refusal (kPermission for
  // auth, kInvalid for a malformed hello) whose message says why.
  Result<Message> OnHello(const Message& m, int64_t now_ns);
  // MSG_AUTH -> OK when the client proved its key; the nonce is then
  // remembered against replay.
  Status OnAuth(const Message& m, int64_t now_ns);

  // The verdict frame; on refusal only a generic reason goes on the wire.
  static Message AuthDone(bool ok, uint64_t in_seq, bool new_session);

  // Valid after OnHello succeeded (peer_name: the claimed name as soon as the
  // hello parsed, so refusals can say who was refused).
  const std::string& peer_name() const { return transcript_.client_name; }
  uint64_t peer_incarnation() const { return transcript_.client_incarnation; }
  uint64_t conn_id() const { return transcript_.conn_id; }
  Policy policy() const { return transcript_.policy == 1 ? Policy::kLossless : Policy::kLossy; }
  // Valid after OnAuth succeeded: last seq the client dispatched from us.
  uint64_t peer_in_seq() const { return peer_in_seq_; }

 private:
  Params p_;
  HandshakeTranscript transcript_;
  std::string secret_;
  bool helloed_ = false;
  uint64_t peer_in_seq_ = 0;
};

}  // namespace nacre::msg
