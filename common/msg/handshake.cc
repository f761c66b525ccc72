#include "common/msg/handshake.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdlib>

#include "common/hmac.h"
#include "proto/messenger.pb.h"

namespace nacre::msg {

namespace {

void AppendField(std::string* out, std::string_view v) {
  uint32_t n = static_cast<uint32_t>(v.size());
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out->append(v);
}

void AppendU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

const char* RoleLabel(ProofRole r) { return r == ProofRole::kServer ? "nacre-ms-v1 server" : "nacre-ms-v1 client"; }

bool ValidName(const std::string& n) { return !n.empty() && n.size() <= kMaxEntityNameBytes; }

}  // namespace

std::string HandshakeTranscript::Serialize() const {
  std::string s;
  s.reserve(128 + client_name.size() + server_name.size() + client_nonce.size() + server_nonce.size());
  AppendField(&s, client_name);
  AppendField(&s, server_name);
  AppendField(&s, client_nonce);
  AppendField(&s, server_nonce);
  AppendU64(&s, client_incarnation);
  AppendU64(&s, server_incarnation);
  AppendU64(&s, static_cast<uint64_t>(client_ts_ns));
  AppendU64(&s, conn_id);
  AppendU64(&s, policy);
  return s;
}

std::string ComputeProof(std::string_view secret, ProofRole role, const HandshakeTranscript& t) {
  std::string data;
  AppendField(&data, RoleLabel(role));
  data += t.Serialize();
  return HmacSha256(secret, data);
}

bool VerifyProof(std::string_view secret, ProofRole role, const HandshakeTranscript& t, std::string_view proof) {
  std::string want = ComputeProof(secret, role, t);
  return want.size() == kProofBytes && ConstantTimeEqual(want, proof);
}

std::string RandomNonce() {
  std::string n(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(n.data()), static_cast<int>(n.size())) != 1) {
    // Without randomness the handshake has no security at all; do not limp on.
    std::abort();
  }
  return n;
}

uint64_t NewIncarnation() {
  uint64_t v = 0;
  while (v == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v)) != 1) std::abort();
  }
  return v;
}

// --- ReplayCache ------------------------------------------------------------

void ReplayCache::Expire(int64_t now_ns) {
  while (!by_ts_.empty() && by_ts_.begin()->first < now_ns - window_ns_) {
    by_nonce_.erase(by_ts_.begin()->second);
    by_ts_.erase(by_ts_.begin());
  }
}

Status ReplayCache::Check(std::string_view nonce, int64_t ts_ns, int64_t now_ns) {
  Expire(now_ns);
  int64_t skew = ts_ns > now_ns ? ts_ns - now_ns : now_ns - ts_ns;
  if (skew > window_ns_) return PermissionDenied("hello timestamp outside the allowed clock skew");
  if (ts_ns <= floor_ns_) return PermissionDenied("hello older than the replay cache remembers");
  if (by_nonce_.count(std::string(nonce))) return PermissionDenied("replayed hello (client nonce seen before)");
  return Status::OK();
}

Status ReplayCache::Admit(std::string_view nonce, int64_t ts_ns, int64_t now_ns) {
  NACRE_RETURN_IF_ERROR(Check(nonce, ts_ns, now_ns));
  if (capacity_ == 0) return PermissionDenied("replay cache has no capacity");
  while (by_nonce_.size() >= capacity_) {
    auto oldest = by_ts_.begin();
    if (oldest->first > floor_ns_) floor_ns_ = oldest->first;
    by_nonce_.erase(oldest->second);
    by_ts_.erase(oldest);
  }
  // The new entry may itself be at or below the raised floor: refuse it then,
  // since it could no longer be told apart from a replay later.
  if (ts_ns <= floor_ns_) return PermissionDenied("hello older than the replay cache remembers");
  std::string key(nonce);
  by_nonce_.emplace(key, ts_ns);
  by_ts_.emplace(ts_ns, std::move(key));
  return Status::OK();
}

// --- ClientHandshake ----------------------------------------------------------

ClientHandshake::ClientHandshake(Params p, int64_t now_ns) : p_(std::move(p)) {
  transcript_.client_name = p_.my_name;
  transcript_.server_name = p_.peer_name;
  transcript_.client_nonce = RandomNonce();
  transcript_.client_incarnation = p_.my_incarnation;
  transcript_.client_ts_ns = now_ns;
  transcript_.conn_id = p_.conn_id;
  transcript_.policy = p_.policy == Policy::kLossless ? 1 : 0;
}

Message ClientHandshake::Hello() const {
  proto::MsHello h;
  h.set_version(kHandshakeVersion);
  h.set_entity(transcript_.client_name);
  h.set_peer_entity(transcript_.server_name);
  h.set_nonce(transcript_.client_nonce);
  h.set_incarnation(transcript_.client_incarnation);
  h.set_timestamp_ns(transcript_.client_ts_ns);
  h.set_conn_id(transcript_.conn_id);
  h.set_policy(transcript_.policy);
  return Message::Make(proto::MSG_HELLO, h);
}

Result<Message> ClientHandshake::OnChallenge(const Message& m, uint64_t in_seq) {
  if (challenged_) return Invalid("second challenge in one handshake");
  if (m.type != proto::MSG_CHALLENGE) return Invalid("expected a challenge, got type " + std::to_string(m.type));
  proto::MsChallenge c;
  if (!m.ParseHeader(&c)) return Invalid("undecodable challenge");
  if (c.entity() != p_.peer_name)
    return PermissionDenied("reached '" + c.entity() + "' instead of '" + p_.peer_name + "'");
  if (c.nonce().size() != kNonceBytes) return Invalid("challenge nonce of wrong size");
  if (c.incarnation() == 0) return Invalid("challenge without incarnation");
  transcript_.server_nonce = c.nonce();
  transcript_.server_incarnation = c.incarnation();
  if (!VerifyProof(p_.my_secret, ProofRole::kServer, transcript_, c.proof()))
    return PermissionDenied("server '" + p_.peer_name + "' failed to prove it knows our key");
  challenged_ = true;
  proto::MsAuth a;
  a.set_proof(ComputeProof(p_.my_secret, ProofRole::kClient, transcript_));
  a.set_in_seq(in_seq);
  return Message::Make(proto::MSG_AUTH, a);
}

Result<ClientHandshakeResult> ClientHandshake::OnAuthDone(const Message& m) const {
  if (m.type != proto::MSG_AUTH_DONE) return Invalid("expected auth verdict, got type " + std::to_string(m.type));
  proto::MsAuthDone d;
  if (!m.ParseHeader(&d)) return Invalid("undecodable auth verdict");
  if (!d.ok()) return PermissionDenied("refused by '" + p_.peer_name + "': " + d.reason());
  // A verdict before our proof was even sent cannot be genuine.
  if (!challenged_) return Invalid("auth verdict before challenge");
  ClientHandshakeResult r;
  r.peer_incarnation = transcript_.server_incarnation;
  r.peer_in_seq = d.in_seq();
  r.new_session = d.new_session();
  return r;
}

// --- ServerHandshake ----------------------------------------------------------

Result<Message> ServerHandshake::OnHello(const Message& m, int64_t now_ns) {
  if (helloed_) return Invalid("second hello in one handshake");
  if (m.type != proto::MSG_HELLO) return Invalid("expected hello, got type " + std::to_string(m.type));
  proto::MsHello h;
  if (!m.ParseHeader(&h)) return Invalid("undecodable hello");
  if (h.version() != kHandshakeVersion) return Invalid("handshake version " + std::to_string(h.version()));
  if (!ValidName(h.entity())) return Invalid("hello with a bad entity name");
  transcript_.client_name = h.entity();  // the claim, for logs even if refused
  if (h.peer_entity() != p_.my_name)
    return PermissionDenied("'" + h.entity() + "' wanted '" + h.peer_entity() + "', this is '" + p_.my_name + "'");
  if (h.nonce().size() != kNonceBytes) return Invalid("hello nonce of wrong size");
  if (h.incarnation() == 0) return Invalid("hello without incarnation");
  if (h.policy() > 1) return Invalid("hello with unknown policy");
  if (p_.replay) NACRE_RETURN_IF_ERROR(p_.replay->Check(h.nonce(), h.timestamp_ns(), now_ns).Annotate(h.entity()));
  auto key = (*p_.keys)(h.entity());
  if (!key.ok()) return PermissionDenied("unknown entity '" + h.entity() + "': " + key.status().message());
  secret_ = std::move(key).value();

  transcript_.client_name = h.entity();
  transcript_.server_name = p_.my_name;
  transcript_.client_nonce = h.nonce();
  transcript_.server_nonce = RandomNonce();
  transcript_.client_incarnation = h.incarnation();
  transcript_.server_incarnation = p_.my_incarnation;
  transcript_.client_ts_ns = h.timestamp_ns();
  transcript_.conn_id = h.conn_id();
  transcript_.policy = h.policy();
  helloed_ = true;

  proto::MsChallenge c;
  c.set_entity(p_.my_name);
  c.set_nonce(transcript_.server_nonce);
  c.set_incarnation(p_.my_incarnation);
  c.set_timestamp_ns(now_ns);
  c.set_proof(ComputeProof(secret_, ProofRole::kServer, transcript_));
  return Message::Make(proto::MSG_CHALLENGE, c);
}

Status ServerHandshake::OnAuth(const Message& m, int64_t now_ns) {
  if (!helloed_) return Invalid("auth before hello");
  if (m.type != proto::MSG_AUTH) return Invalid("expected auth, got type " + std::to_string(m.type));
  proto::MsAuth a;
  if (!m.ParseHeader(&a)) return Invalid("undecodable auth");
  if (!VerifyProof(secret_, ProofRole::kClient, transcript_, a.proof()))
    return PermissionDenied("'" + transcript_.client_name + "' failed to prove its key (wrong key?)");
  if (p_.replay)
    NACRE_RETURN_IF_ERROR(p_.replay->Admit(transcript_.client_nonce, transcript_.client_ts_ns, now_ns)
                              .Annotate(transcript_.client_name));
  peer_in_seq_ = a.in_seq();
  return Status::OK();
}

Message ServerHandshake::AuthDone(bool ok, uint64_t in_seq, bool new_session) {
  proto::MsAuthDone d;
  d.set_ok(ok);
  if (!ok) d.set_reason("authentication failed");
  d.set_in_seq(in_seq);
  d.set_new_session(new_session);
  return Message::Make(proto::MSG_AUTH_DONE, d);
}

}  // namespace nacre::msg
