#include "daemons/mds/mds_locks.h"

#include <algorithm>
#include <limits>

namespace nacre::mds {

namespace {

constexpr uint64_t kEnd = std::numeric_limits<uint64_t>::max();

uint64_t EndOf(const proto::FileLockProto& l) {
  if (l.length() == 0 || l.start() + l.length() < l.start()) return kEnd;
  return l.start() + l.length();  // exclusive
}

bool SameHolder(const proto::FileLockProto& a, const proto::FileLockProto& b) {
  return a.session() == b.session() && a.owner() == b.owner();
}

void SetRange(proto::FileLockProto* l, uint64_t start, uint64_t end) {
  l->set_start(start);
  l->set_length(end == kEnd ? 0 : end - start);
}

}  // namespace

const proto::FileLockProto* FileLocks::Conflict(uint64_t ino, const proto::FileLockProto& l) const {
  auto it = locks_.find(ino);
  if (it == locks_.end() || l.type() == kUnLck) return nullptr;
  for (const auto& h : it->second) {
    if (h.flock() != l.flock() || SameHolder(h, l)) continue;
    if (l.type() == kRdLck && h.type() == kRdLck) continue;
    if (l.flock()) return &h;
    if (h.start() < EndOf(l) && l.start() < EndOf(h)) return &h;
  }
  return nullptr;
}

void FileLocks::Set(uint64_t ino, const proto::FileLockProto& l) {
  auto& v = locks_[ino];
  std::vector<proto::FileLockProto> out;
  uint64_t ls = l.flock() ? 0 : l.start(), le = l.flock() ? kEnd : EndOf(l);
  for (auto& h : v) {
    if (h.flock() != l.flock() || !SameHolder(h, l)) {
      out.push_back(h);
      continue;
    }
    uint64_t hs = h.start(), he = EndOf(h);
    if (he <= ls || le <= hs) {  // disjoint: keep
      out.push_back(h);
      continue;
    }
    // Keep the parts outside the new range.
    if (hs < ls) {
      proto::FileLockProto a = h;
      SetRange(&a, hs, ls);
      out.push_back(a);
    }
    if (he > le) {
      proto::FileLockProto b = h;
      SetRange(&b, le, he);
      out.push_back(b);
    }
  }
  if (l.type() != kUnLck) {
    proto::FileLockProto n = l;
    n.set_wait(false);
    if (n.flock()) SetRange(&n, 0, kEnd);
    out.push_back(n);
  }
  if (out.empty())
    locks_.erase(ino);
  else
    v = std::move(out);
}

std::vector<uint64_t> FileLocks::DropSession(uint64_t session) {
  std::vector<uint64_t> changed;
  for (auto it = locks_.begin(); it != locks_.end();) {
    auto& v = it->second;
    size_t before = v.size();
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& h) { return h.session() == session; }), v.end());
    if (v.size() != before) changed.push_back(it->first);
    it = v.empty() ? locks_.erase(it) : std::next(it);
  }
  return changed;
}

bool FileLocks::DropOwner(uint64_t ino, uint64_t session, uint64_t owner) {
  auto it = locks_.find(ino);
  if (it == locks_.end()) return false;
  auto& v = it->second;
  size_t before = v.size();
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](const auto& h) { return h.session() == session && h.owner() == owner; }),
          v.end());
  bool changed = v.size() != before;
  if (v.empty()) locks_.erase(it);
  return changed;
}

size_t FileLocks::count(uint64_t ino) const {
  auto it = locks_.find(ino);
  return it == locks_.end() ? 0 : it->second.size();
}

}  // namespace nacre::mds
