// The reply decoder and the compound-op builders: pure, no sockets.
#include <catch2/catch.hpp>

#include "librados/rados.h"
#include "librados/rados_reply.h"
#include "messenger.pb.h"

using namespace nacre;
using namespace nacre::rados;

namespace {

msg::Message Reply(const proto::OsdOpReply& r, std::string payload) {
  return msg::Message::Make(proto::MSG_OSD_OP_REPLY, r, Bytes(std::move(payload)));
}

}  // namespace

TEST_CASE("DecodeOpReply slices the payload by each op's data_len", "[rados]") {
  proto::OsdOpReply r;
  r.set_tid(7);
  r.add_results()->set_data_len(3);
  r.add_results()->set_data_len(0);
  r.add_results()->set_data_len(2);
  auto d = DecodeOpReply(Reply(r, "abcde"), 3);
  REQUIRE(d.ok());
  CHECK(d->header.tid() == 7);
  REQUIRE(d->data.size() == 3);
  CHECK(d->data[0].view() == "abc");
  CHECK(d->data[1].view().empty());
  CHECK(d->data[2].view() == "de");
  CHECK(d->status.ok());
}

TEST_CASE("DecodeOpReply refuses lengths that do not add up", "[rados]") {
  proto::OsdOpReply r;
  r.add_results()->set_data_len(4);
  CHECK(DecodeOpReply(Reply(r, "abc")).status().code() == Code::kCorruption);   // claims more
  CHECK(DecodeOpReply(Reply(r, "abcde")).status().code() == Code::kCorruption); // leaves bytes over
  r.add_results()->set_data_len(~uint64_t{0});  // would overflow a naive sum
  CHECK(DecodeOpReply(Reply(r, "abcd")).status().code() == Code::kCorruption);

  msg::Message garbage;
  garbage.type = proto::MSG_OSD_OP_REPLY;
  garbage.header = "\xff\xff\xff";
  CHECK(DecodeOpReply(garbage).status().code() == Code::kCorruption);
  msg::Message wrong_type = Reply(proto::OsdOpReply(), "");
  wrong_type.type = proto::MSG_OSD_OP;
  CHECK(DecodeOpReply(wrong_type).status().code() == Code::kCorruption);
}

TEST_CASE("DecodeOpReply checks the result count against the request", "[rados]") {
  proto::OsdOpReply r;
  r.add_results();
  CHECK(DecodeOpReply(Reply(r, ""), 1).ok());
  CHECK_FALSE(DecodeOpReply(Reply(r, ""), 2).ok());  // success must answer every op
  r.mutable_status()->set_code(ENOENT);
  auto d = DecodeOpReply(Reply(r, ""), 2);  // a failure may stop early
  REQUIRE(d.ok());
  CHECK(d->status.code() == Code::kNotFound);
  r.add_results();
  r.add_results();
  CHECK_FALSE(DecodeOpReply(Reply(r, ""), 2).ok());  // more results than ops
  proto::OsdOpReply retry;
  retry.set_retry(true);
  CHECK(DecodeOpReply(Reply(retry, ""), 5).ok());
}

TEST_CASE("Wire status codes map onto Status codes", "[rados]") {
  CHECK(StatusFromWire(0, "").ok());
  CHECK(StatusFromWire(EEXIST, "x").code() == Code::kExists);
  CHECK(StatusFromWire(-ENOENT, "x").code() == Code::kNotFound);
  CHECK(StatusFromWire(E2BIG, "x").code() == Code::kTooBig);
  CHECK(StatusFromWire(12345, "x").code() == Code::kIO);
}

TEST_CASE("ObjectWriteOperation lays out data lengths and one payload", "[rados]") {
  ObjectWriteOperation op;
  op.Create(true).Write(10, Bytes::Copy("hello")).SetXattr("a", "b").Append(Bytes::Copy("xyz")).Truncate(4);
  REQUIRE(op.size() == 5);
  CHECK(op.ops()[0].op() == proto::OSD_OP_CREATE);
  CHECK(op.ops()[0].exclusive());
  CHECK(op.ops()[1].data_len() == 5);
  CHECK(op.ops()[1].off() == 10);
  CHECK(op.ops()[2].data_len() == 0);
  CHECK(op.ops()[3].data_len() == 3);
  CHECK(op.ops()[4].off() == 4);
  CHECK(op.Payload().view() == "helloxyz");

  // One data carrier: the payload is that buffer, shared.
  Bytes big = Bytes::Copy(std::string(1000, 'q'));
  ObjectWriteOperation one;
  one.WriteFull(big).OmapSet({{"k", "v"}});
  CHECK(one.Payload().data() == big.data());
}

TEST_CASE("AioCompletion completes once and runs its callback", "[rados]") {
  int calls = 0;
  auto c = MakeCompletion([&](AioCompletion& self) {
    ++calls;
    CHECK(self.return_value() == -ENOENT);
  });
  CHECK_FALSE(c->IsComplete());
  c->Complete(NotFound("x"), 0);
  c->Complete(Status::OK(), 5);  // ignored
  CHECK(c->IsComplete());
  CHECK(c->WaitFor(0));
  CHECK(calls == 1);
  CHECK(c->status().code() == Code::kNotFound);
}
