#include <catch2/catch.hpp>

#include "common/status.h"

using namespace nacre;

namespace {
Result<int> Half(int x) {
  if (x % 2) return Invalid("odd: " + std::to_string(x));
  return x / 2;
}
Result<int> Quarter(int x) {
  NACRE_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}
Status Check(int x) {
  NACRE_RETURN_IF_ERROR(Quarter(x).status());
  return Status::OK();
}
}  // namespace

TEST_CASE("Status carries errno codes and annotated messages", "[status]") {
  Status s = NotFound("pool 'x' does not exist");
  CHECK_FALSE(s.ok());
  CHECK(s.err() == ENOENT);
  CHECK(s.ToString() == "ENOENT: pool 'x' does not exist");
  CHECK(s.Annotate("osd pool get").ToString() == "ENOENT: osd pool get: pool 'x' does not exist");
  CHECK(Status::OK().ok());
  CHECK(Status::OK().Annotate("ctx").ok());
}

TEST_CASE("Result propagates the first error", "[status]") {
  CHECK(Quarter(8).value() == 2);
  auto r = Quarter(6);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalid);
  CHECK(r.status().message() == "odd: 3");
  CHECK(Check(8).ok());
  CHECK(Check(2).code() == Code::kInvalid);
}
