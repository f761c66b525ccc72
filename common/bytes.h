// Bytes: an immutable, reference-counted byte buffer with cheap slicing.
//
// Bulk data (object payloads, file blocks) moves through Nacre as Bytes so it
// is copied at most once between the socket and the disk: the messenger reads
// a frame's payload straight into one, the OSD hands slices of it to the store,
// and a replica fan-out shares the same buffer instead of copying it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace nacre {

class Bytes {
 public:
  Bytes() = default;
  // Takes ownership of `s` without copying its contents.
  explicit Bytes(std::string&& s) {
    auto owner = std::make_shared<const std::string>(std::move(s));
    len_ = owner->size();
    base_ = std::shared_ptr<const char>(owner, owner->data());
  }
  static Bytes Copy(std::string_view v) { return Bytes(std::string(v)); }

  // A buffer of n bytes that is not zero-filled first: for a receiver that
  // is about to overwrite all of it (a frame payload off the socket). Fill
  // it through *writable before sharing the Bytes.
  static Bytes Uninitialized(size_t n, char** writable) {
    std::shared_ptr<char[]> buf(new char[n > 0 ? n : 1]);
    *writable = buf.get();
    Bytes b;
    b.base_ = std::shared_ptr<const char>(buf, buf.get());
    b.len_ = n;
    return b;
  }

  const char* data() const { return base_ ? base_.get() + off_ : nullptr; }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  std::string_view view() const { return {data() ? data() : "", len_}; }
  std::string ToString() const { return std::string(view()); }

  // A view of [pos, pos+n) sharing the same storage; clamps to the end.
  Bytes Slice(size_t pos, size_t n = std::string::npos) const {
    Bytes b;
    if (pos > len_) pos = len_;
    b.base_ = base_;
    b.off_ = off_ + pos;
    b.len_ = (n == std::string::npos || pos + n > len_) ? len_ - pos : n;
    return b;
  }

  bool operator==(const Bytes& o) const { return view() == o.view(); }

 private:
  // Points at the start of the owner's bytes; the owner (a string or a raw
  // buffer) lives as long as any Bytes sharing it.
  std::shared_ptr<const char> base_;
  size_t off_ = 0;
  size_t len_ = 0;
};

}  // namespace nacre
