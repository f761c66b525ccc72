// Unit tests of the client's MDS request table: tids, resends, duplicates.
#include "libfs/mds_requests.h"

#include <catch2/catch.hpp>

using namespace nacre;
using namespace nacre::fs;

namespace {
proto::MdsReply ReplyTo(uint64_t tid) {
  proto::MdsReply r;
  r.set_tid(tid);
  return r;
}
}  // namespace

TEST_CASE("RequestTable: tids increase and are kept across resends") {
  RequestTable t(8);
  auto a = t.Add(proto::MdsRequest());
  auto b = t.Add(proto::MdsRequest());
  CHECK(a->req.tid() == 1);
  CHECK(b->req.tid() == 2);
  CHECK(t.MarkSent(a.get(), 1));
  CHECK(a->req.attempt() == 0);
  CHECK_FALSE(t.MarkSent(a.get(), 1));  // at most once per session
  // A failover opens generation 2: the same tid goes again, attempt 1.
  CHECK(t.MarkSent(a.get(), 2));
  CHECK(a->req.tid() == 1);
  CHECK(a->req.attempt() == 1);
  // b was never sent: its first send is attempt 0 whatever the generation.
  CHECK(t.MarkSent(b.get(), 2));
  CHECK(b->req.attempt() == 0);
}

TEST_CASE("RequestTable: a reply completes once; duplicates are ignored") {
  RequestTable t(8);
  auto a = t.Add(proto::MdsRequest());
  CHECK(t.Complete(ReplyTo(a->req.tid())));
  CHECK(a->done);
  CHECK_FALSE(t.Complete(ReplyTo(a->req.tid())));
  CHECK_FALSE(t.MarkSent(a.get(), 5));  // finished: never resent
  CHECK(t.size() == 0);
}

TEST_CASE("RequestTable: resend order, retry, bound and shutdown") {
  RequestTable t(3);
  auto a = t.Add(proto::MdsRequest());
  auto b = t.Add(proto::MdsRequest());
  auto c = t.Add(proto::MdsRequest());
  CHECK(t.Full());
  auto all = t.All();
  REQUIRE(all.size() == 3);
  CHECK(all[0]->req.tid() < all[1]->req.tid());
  CHECK(all[1]->req.tid() < all[2]->req.tid());
  CHECK(t.MarkSent(b.get(), 1));
  t.Unsend(b.get());
  CHECK(t.MarkSent(b.get(), 1));  // retry on the same session
  CHECK(b->req.attempt() == 1);
  CHECK(t.Find(c->req.tid()) == c);
  t.FailAll(Status(Code::kShutdown, "bye"));
  CHECK(a->done);
  CHECK(a->status.code() == Code::kShutdown);
  CHECK_FALSE(t.Full());
}
