#include "daemons/osd/store/keys.h"

#include <cstring>

#include "common/crc32c.h"

namespace nacre::osd::store {

namespace {

void PutBE32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutLE32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutLE64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetLE32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetLE64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string ObjPart(char space, std::string_view coll, const ObjectId& oid) {
  std::string k(1, space);
  AppendEscaped(&k, coll);
  AppendEscaped(&k, oid.ns);
  AppendEscaped(&k, oid.name);
  return k;
}

constexpr char kOnodeVersion = 1;
constexpr char kInline = 'I';
constexpr char kFile = 'F';

}  // namespace

void AppendEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

bool ConsumeEscaped(std::string_view* in, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i + 1 < in->size()) {
    char c = (*in)[i];
    if (c != '\0') {
      out->push_back(c);
      ++i;
      continue;
    }
    char n = (*in)[i + 1];
    if (n == '\x01') {
      in->remove_prefix(i + 2);
      return true;
    }
    if (n != '\xff') return false;
    out->push_back('\0');
    i += 2;
  }
  return false;
}

std::string DataTailKey() { return "Sdata_tail"; }

std::string CollKey(std::string_view coll) { return CollSpacePrefix('C', coll); }
std::string CollSpacePrefix(char space, std::string_view coll) {
  std::string k(1, space);
  AppendEscaped(&k, coll);
  return k;
}
std::string CollKvPrefix(std::string_view coll) { return CollSpacePrefix('K', coll); }
std::string CollKvKey(std::string_view coll, std::string_view key) {
  std::string k = CollKvPrefix(coll);
  k.append(key);
  return k;
}
std::string OnodePrefix(std::string_view coll) { return CollSpacePrefix('O', coll); }
std::string OnodeKey(std::string_view coll, const ObjectId& oid) { return ObjPart('O', coll, oid); }
std::string BlockPrefix(std::string_view coll, const ObjectId& oid) { return ObjPart('D', coll, oid); }
std::string BlockKey(std::string_view coll, const ObjectId& oid, uint32_t block) {
  std::string k = BlockPrefix(coll, oid);
  PutBE32(&k, block);  // big-endian so blocks sort in offset order
  return k;
}
std::string XattrPrefix(std::string_view coll, const ObjectId& oid) { return ObjPart('X', coll, oid); }
std::string OmapPrefix(std::string_view coll, const ObjectId& oid) { return ObjPart('M', coll, oid); }

bool DecodeOnodeKey(std::string_view key, size_t prefix_len, ObjectId* oid) {
  if (key.size() < prefix_len) return false;
  key.remove_prefix(prefix_len);
  return ConsumeEscaped(&key, &oid->ns) && ConsumeEscaped(&key, &oid->name) && key.empty();
}

bool DecodeBlockIndex(std::string_view key, uint32_t* block) {
  if (key.size() < 4) return false;
  const char* p = key.data() + key.size() - 4;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  *block = v;
  return true;
}

// Onode: version(1) size(8) mtime(8) crc32c-of-the-previous(4).
std::string EncodeOnode(const Onode& o) {
  std::string v(1, kOnodeVersion);
  PutLE64(&v, o.size);
  PutLE64(&v, o.mtime_ns);
  PutLE32(&v, Crc32c(v));
  return v;
}

Status DecodeOnode(std::string_view v, Onode* o) {
  if (v.size() != 21 || v[0] != kOnodeVersion) return Corruption("onode: bad length or version");
  if (Crc32c(v.substr(0, 17)) != GetLE32(v.data() + 17)) return Corruption("onode: checksum mismatch");
  o->size = GetLE64(v.data() + 1);
  o->mtime_ns = GetLE64(v.data() + 9);
  return Status::OK();
}

std::string EncodeDataTail(const DataTail& t) {
  std::string v;
  PutLE32(&v, t.file);
  PutLE64(&v, t.offset);
  PutLE32(&v, Crc32c(v));
  return v;
}

Status DecodeDataTail(std::string_view v, DataTail* t) {
  if (v.size() != 16 || Crc32c(v.substr(0, 12)) != GetLE32(v.data() + 12)) return Corruption("data tail record");
  t->file = GetLE32(v.data());
  t->offset = GetLE64(v.data() + 4);
  return Status::OK();
}

// Inline block: 'I' len(4) crc(4) data.  File block: 'F' len(4) crc(4) file(4) offset(8).
std::string EncodeInlineBlock(std::string_view data) {
  std::string v(1, kInline);
  v.reserve(9 + data.size());
  PutLE32(&v, static_cast<uint32_t>(data.size()));
  PutLE32(&v, Crc32c(data));
  v.append(data);
  return v;
}

std::string EncodeFileBlock(uint32_t len, uint32_t crc, uint32_t file, uint64_t offset) {
  std::string v(1, kFile);
  PutLE32(&v, len);
  PutLE32(&v, crc);
  PutLE32(&v, file);
  PutLE64(&v, offset);
  return v;
}

Status DecodeBlock(std::string_view v, BlockRecord* b) {
  if (v.size() < 9) return Corruption("block record too short");
  b->len = GetLE32(v.data() + 1);
  b->crc = GetLE32(v.data() + 5);
  if (b->len > kBlockSize) return Corruption("block record longer than a block");
  if (v[0] == kInline) {
    if (v.size() != 9 + size_t{b->len}) return Corruption("inline block length mismatch");
    b->inline_data = true;
    b->data = v.substr(9);
    return Status::OK();
  }
  if (v[0] == kFile && v.size() == 21) {
    b->inline_data = false;
    b->file = GetLE32(v.data() + 9);
    b->offset = GetLE64(v.data() + 13);
    return Status::OK();
  }
  return Corruption("unknown block record type");
}

}  // namespace nacre::osd::store
