// The handshake's pure logic: proofs, the client and server state machines
// run against each other in memory, and every refusal (wrong key, unknown
// entity, wrong peer, replays, skew).
#include <catch2/catch.hpp>

#include "common/msg/handshake.h"
#include "proto/messenger.pb.h"

namespace nacre::msg {
namespace {

constexpr int64_t kSec = 1000000000;
const std::string kClientKey(32, 'c');
const std::string kServerName = "osd.1";
const std::string kClientName = "client.a";

HandshakeTranscript SampleTranscript() {
  HandshakeTranscript t;
  t.client_name = kClientName;
  t.server_name = kServerName;
  t.client_nonce = std::string(32, 'x');
  t.server_nonce = std::string(32, 'y');
  t.client_incarnation = 11;
  t.server_incarnation = 22;
  t.client_ts_ns = 33;
  t.conn_id = 44;
  t.policy = 1;
  return t;
}

KeyLookup Keys(std::string secret) {
  return [secret](const std::string& e) -> Result<std::string> {
    if (e == kClientName) return secret;
    return NotFound("no key for " + e);
  };
}

struct Pair {
  KeyLookup keys;
  ReplayCache replay{300 * kSec, 1000};
  std::unique_ptr<ClientHandshake> client;
  std::unique_ptr<ServerHandshake> server;

  explicit Pair(const std::string& server_knows = kClientKey, const std::string& client_has = kClientKey,
                const std::string& client_name = kClientName, const std::string& wanted = kServerName,
                int64_t now = 1000 * kSec)
      : keys(Keys(server_knows)) {
    ClientHandshake::Params cp{client_name, client_has, 5, wanted, 1, Policy::kLossless};
    client = std::make_unique<ClientHandshake>(cp, now);
    server = std::make_unique<ServerHandshake>(ServerHandshake::Params{kServerName, 6, &keys, &replay, 300 * kSec});
  }
};

TEST_CASE("handshake: proofs bind every transcript field and the role") {
  HandshakeTranscript t = SampleTranscript();
  std::string p = ComputeProof(kClientKey, ProofRole::kClient, t);
  CHECK(p.size() == kProofBytes);
  CHECK(p == ComputeProof(kClientKey, ProofRole::kClient, t));
  CHECK(VerifyProof(kClientKey, ProofRole::kClient, t, p));
  CHECK_FALSE(VerifyProof(kClientKey, ProofRole::kServer, t, p));
  CHECK_FALSE(VerifyProof(std::string(32, 'd'), ProofRole::kClient, t, p));
  CHECK_FALSE(VerifyProof(kClientKey, ProofRole::kClient, t, p.substr(1)));
  std::vector<std::function<void(HandshakeTranscript&)>> edits = {
      [](auto& x) { x.client_name = "client.b"; },   [](auto& x) { x.server_name = "osd.2"; },
      [](auto& x) { x.client_nonce[0] ^= 1; },       [](auto& x) { x.server_nonce[31] ^= 1; },
      [](auto& x) { x.client_incarnation++; },       [](auto& x) { x.server_incarnation++; },
      [](auto& x) { x.client_ts_ns++; },             [](auto& x) { x.conn_id++; },
      [](auto& x) { x.policy = 0; },
      // Moving a byte between adjacent fields must change the proof too.
      [](auto& x) { x.client_name = "client.ao"; x.server_name = "sd.1"; },
  };
  for (auto& edit : edits) {
    HandshakeTranscript u = t;
    edit(u);
    CHECK_FALSE(VerifyProof(kClientKey, ProofRole::kClient, u, p));
  }
}

TEST_CASE("handshake: a full exchange succeeds and reports the resume points") {
  Pair p;
  auto challenge = p.server->OnHello(p.client->Hello(), 1000 * kSec);
  REQUIRE(challenge.ok());
  auto auth = p.client->OnChallenge(*challenge, 17);
  REQUIRE(auth.ok());
  REQUIRE(p.server->OnAuth(*auth, 1000 * kSec).ok());
  CHECK(p.server->peer_name() == kClientName);
  CHECK(p.server->peer_incarnation() == 5);
  CHECK(p.server->conn_id() == 1);
  CHECK(p.server->policy() == Policy::kLossless);
  CHECK(p.server->peer_in_seq() == 17);
  auto done = p.client->OnAuthDone(ServerHandshake::AuthDone(true, 9, false));
  REQUIRE(done.ok());
  CHECK(done->peer_incarnation == 6);
  CHECK(done->peer_in_seq == 9);
  CHECK_FALSE(done->new_session);
}

TEST_CASE("handshake: a client with the wrong key is refused by the server") {
  Pair p(kClientKey, std::string(32, 'w'));
  auto challenge = p.server->OnHello(p.client->Hello(), 1000 * kSec);
  REQUIRE(challenge.ok());
  // The client notices first: the server's proof uses the real key.
  auto auth = p.client->OnChallenge(*challenge, 0);
  REQUIRE(!auth.ok());
  CHECK(auth.status().code() == Code::kPermission);
  // And a client that sends a proof anyway is refused by the server.
  proto::MsAuth forged;
  forged.set_proof(std::string(32, 'f'));
  Status s = p.server->OnAuth(Message::Make(proto::MSG_AUTH, forged), 1000 * kSec);
  CHECK(s.code() == Code::kPermission);
}

TEST_CASE("handshake: a server that does not know the key is refused by the client") {
  Pair p(std::string(32, 's'));
  auto challenge = p.server->OnHello(p.client->Hello(), 1000 * kSec);
  REQUIRE(challenge.ok());
  auto auth = p.client->OnChallenge(*challenge, 0);
  REQUIRE(!auth.ok());
  CHECK(auth.status().code() == Code::kPermission);
  CHECK(auth.status().message().find("failed to prove") != std::string::npos);
}

TEST_CASE("handshake: unknown entity and wrong peer name are refused at hello") {
  Pair unknown(kClientKey, kClientKey, "client.nobody");
  auto r = unknown.server->OnHello(unknown.client->Hello(), 1000 * kSec);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kPermission);
  CHECK(r.status().message().find("unknown entity") != std::string::npos);

  Pair wrong_peer(kClientKey, kClientKey, kClientName, "osd.9");
  r = wrong_peer.server->OnHello(wrong_peer.client->Hello(), 1000 * kSec);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kPermission);
}

TEST_CASE("handshake: the client refuses a challenge from someone else") {
  Pair p;
  auto challenge = p.server->OnHello(p.client->Hello(), 1000 * kSec);
  REQUIRE(challenge.ok());
  proto::MsChallenge c;
  REQUIRE(challenge->ParseHeader(&c));
  c.set_entity("osd.7");
  auto auth = p.client->OnChallenge(Message::Make(proto::MSG_CHALLENGE, c), 0);
  REQUIRE(!auth.ok());
  CHECK(auth.status().code() == Code::kPermission);
}

TEST_CASE("handshake: replays are refused") {
  Pair p;
  Message hello = p.client->Hello();
  auto challenge = p.server->OnHello(hello, 1000 * kSec);
  REQUIRE(challenge.ok());
  auto auth = p.client->OnChallenge(*challenge, 0);
  REQUIRE(auth.ok());
  REQUIRE(p.server->OnAuth(*auth, 1000 * kSec).ok());

  SECTION("the same hello again, even on a new socket") {
    ServerHandshake again(ServerHandshake::Params{kServerName, 6, &p.keys, &p.replay, 300 * kSec});
    auto r = again.OnHello(hello, 1001 * kSec);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kPermission);
    CHECK(r.status().message().find("replayed") != std::string::npos);
  }
  SECTION("a recorded auth against a fresh challenge") {
    // An attacker starts its own hello (it cannot prove anything) and plays
    // the recorded response: the fresh server nonce makes it useless.
    ClientHandshake attacker(ClientHandshake::Params{kClientName, "", 5, kServerName, 1, Policy::kLossless},
                             1001 * kSec);
    ServerHandshake fresh(ServerHandshake::Params{kServerName, 6, &p.keys, &p.replay, 300 * kSec});
    REQUIRE(fresh.OnHello(attacker.Hello(), 1001 * kSec).ok());
    Status s = fresh.OnAuth(*auth, 1001 * kSec);
    CHECK(s.code() == Code::kPermission);
  }
  SECTION("a recorded challenge played to a new client attempt") {
    ClientHandshake next(ClientHandshake::Params{kClientName, kClientKey, 5, kServerName, 1, Policy::kLossless},
                         1001 * kSec);
    auto r = next.OnChallenge(*challenge, 0);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kPermission);
  }
}

TEST_CASE("handshake: hellos outside the clock-skew window are refused") {
  Pair old(kClientKey, kClientKey, kClientName, kServerName, 1000 * kSec);
  auto r = old.server->OnHello(old.client->Hello(), 1000 * kSec + 301 * kSec);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("skew") != std::string::npos);
  Pair future(kClientKey, kClientKey, kClientName, kServerName, 2000 * kSec);
  CHECK(!future.server->OnHello(future.client->Hello(), 1000 * kSec).ok());
}

TEST_CASE("handshake: malformed messages are refused and not trusted") {
  Pair p;
  Message junk;
  junk.type = proto::MSG_HELLO;
  junk.header = "\xff\xff\xff";
  CHECK(!p.server->OnHello(junk, 1000 * kSec).ok());
  proto::MsHello h;
  h.set_version(kHandshakeVersion);
  h.set_entity(kClientName);
  h.set_peer_entity(kServerName);
  h.set_nonce("short");
  h.set_incarnation(1);
  h.set_timestamp_ns(1000 * kSec);
  CHECK(p.server->OnHello(Message::Make(proto::MSG_HELLO, h), 1000 * kSec).status().code() == Code::kInvalid);
  // Auth before hello; a verdict before the challenge.
  Pair q;
  CHECK(!q.server->OnAuth(Message::Make(proto::MSG_AUTH, proto::MsAuth()), 1000 * kSec).ok());
  CHECK(!q.client->OnAuthDone(ServerHandshake::AuthDone(true, 0, true)).ok());
  auto refused = q.client->OnAuthDone(ServerHandshake::AuthDone(false, 0, false));
  CHECK(refused.status().code() == Code::kPermission);
}

TEST_CASE("replay cache: expiry and a bounded size that cannot be flooded into forgetting") {
  ReplayCache c(10 * kSec, 3);
  REQUIRE(c.Admit("a", 100 * kSec, 100 * kSec).ok());
  CHECK(c.Check("a", 100 * kSec, 101 * kSec).code() == Code::kPermission);
  // After the window the nonce is forgotten, but its hello is too old anyway.
  CHECK(c.Check("a", 100 * kSec, 111 * kSec).code() == Code::kPermission);
  CHECK(c.size() == 0);

  REQUIRE(c.Admit("b", 200 * kSec, 200 * kSec).ok());
  REQUIRE(c.Admit("c", 201 * kSec, 201 * kSec).ok());
  REQUIRE(c.Admit("d", 202 * kSec, 202 * kSec).ok());
  REQUIRE(c.Admit("e", 203 * kSec, 203 * kSec).ok());  // evicts "b"
  CHECK(c.size() == 3);
  // "b" was evicted, yet its replay is still refused: it is at the floor.
  CHECK(c.Check("b", 200 * kSec, 203 * kSec).code() == Code::kPermission);
  CHECK(c.Check("c", 201 * kSec, 203 * kSec).code() == Code::kPermission);
  CHECK(c.Check("z", 203 * kSec, 203 * kSec).ok());
}

TEST_CASE("handshake: nonces and incarnations are random and non-zero") {
  CHECK(RandomNonce() != RandomNonce());
  CHECK(RandomNonce().size() == kNonceBytes);
  CHECK(NewIncarnation() != 0);
  CHECK(NewIncarnation() != NewIncarnation());
}

}  // namespace
}  // namespace nacre::msg
