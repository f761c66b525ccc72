#include "daemons/mon/pg_stats.h"

#include <algorithm>
#include <cstdio>

namespace nacre::mon {

bool StateHas(const std::string& state, const std::string& word) {
  size_t pos = 0;
  while (pos <= state.size()) {
    size_t plus = state.find('+', pos);
    size_t end = plus == std::string::npos ? state.size() : plus;
    if (state.compare(pos, end - pos, word) == 0 && end - pos == word.size()) return true;
    if (plus == std::string::npos) break;
    pos = plus + 1;
  }
  return false;
}

bool PgMapView::AllClean() const {
  for (const auto& pg : pgs)
    if (!StateHas(pg.state, "active") || !StateHas(pg.state, "clean") || StateHas(pg.state, "stale")) return false;
  return true;
}

std::string EVersionString(const proto::EVersion& v) {
  return std::to_string(v.epoch()) + "'" + std::to_string(v.v());
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  uint64_t whole = bytes;
  while (whole >= 1024 && unit < 6) {
    whole /= 1024;
    ++unit;
  }
  char buf[48];
  const uint64_t scale = uint64_t{1} << (10 * unit);
  if (unit == 0 || bytes % scale == 0) {
    snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(whole), kUnits[unit]);
  } else {
    // About three significant digits, as Ceph prints sizes: 1.2 GiB, 27 GiB, 297 GiB.
    double v = static_cast<double>(bytes) / static_cast<double>(scale);
    snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  }
  return buf;
}

bool PgStatsStore::Ingest(const proto::OsdPgStats& r, int64_t now_ms, const proto::OSDMapProto& om) {
  if (!om.osds().count(r.osd())) return false;
  auto it = by_osd_.find(r.osd());
  if (it != by_osd_.end() && r.stamp_ms() != 0 && r.stamp_ms() < it->second.report.stamp_ms()) return false;
  by_osd_[r.osd()] = Entry{r, now_ms};
  return true;
}

void PgStatsStore::Prune(const proto::OSDMapProto& om, int64_t now_ms) {
  for (auto it = by_osd_.begin(); it != by_osd_.end();) {
    // Down OSDs' reports are kept while young: the OSD may be marked up again at once.
    bool gone = !om.osds().count(it->first) || now_ms - it->second.received_ms > max_age_ms_;
    it = gone ? by_osd_.erase(it) : std::next(it);
  }
}

bool PgStatsStore::Fresh(const Entry& e, const proto::OSDMapProto& om, int64_t now_ms) const {
  auto o = om.osds().find(e.report.osd());
  if (o == om.osds().end() || !o->second.up()) return false;
  // A report from before the OSD's last boot describes copies it may no longer have.
  if (e.report.epoch() < o->second.up_from()) return false;
  return now_ms - e.received_ms <= max_age_ms_;
}

PgMapView PgStatsStore::Build(const proto::OSDMapProto& om, int64_t now_ms) const {
  PgMapView v;
  // Index of each pool's first PG in v.pgs; pools in id order (std::map in
  // the proto is not ordered, so sort the ids).
  std::vector<int64_t> pool_ids;
  for (const auto& [id, p] : om.pools()) pool_ids.push_back(id);
  std::sort(pool_ids.begin(), pool_ids.end());
  std::map<int64_t, size_t> first;
  for (int64_t id : pool_ids) {
    const auto& p = om.pools().at(id);
    first[id] = v.pgs.size();
    for (uint32_t s = 0; s < p.pg_num(); ++s) {
      PgView pg;
      pg.pgid = {id, s};
      v.pgs.push_back(std::move(pg));
    }
  }
  v.num_pools = static_cast<int>(pool_ids.size());

  for (const auto& [osd, e] : by_osd_) {
    if (!Fresh(e, om, now_ms)) continue;
    v.osd_stats[osd] = e.report.osd_stat();
    for (const auto& st : e.report.pgs()) {
      auto f = first.find(st.pool());
      if (f == first.end() || st.seed() >= om.pools().at(st.pool()).pg_num()) continue;
      PgView& pg = v.pgs[f->second + st.seed()];
      pg.copies.push_back({osd, st.num_objects(), st.num_bytes(), st.digest(), EVersionString(st.last_update())});
      if (st.primary() != osd) continue;
      uint64_t epoch = st.epoch() ? st.epoch() : e.report.epoch();
      if (pg.epoch != 0 && epoch <= pg.epoch) continue;
      pg.state = st.state().empty() ? "unknown" : st.state();
      pg.up.assign(st.up().begin(), st.up().end());
      pg.acting.assign(st.acting().begin(), st.acting().end());
      pg.primary = osd;
      pg.num_objects = st.num_objects();
      pg.num_bytes = st.num_bytes();
      pg.num_missing = st.num_missing();
      pg.last_update = EVersionString(st.last_update());
      pg.epoch = epoch;
    }
  }
  // A PG whose last primary is down (or restarted since it reported) and
  // that no live primary reports yet is stale: its last known state, which
  // nobody vouches for now. Ceph shows the same. Reports older than the max
  // age say nothing at all (unknown).
  for (const auto& [osd, e] : by_osd_) {
    if (Fresh(e, om, now_ms) || now_ms - e.received_ms > max_age_ms_) continue;
    for (const auto& st : e.report.pgs()) {
      auto f = first.find(st.pool());
      if (st.primary() != osd || f == first.end() || st.seed() >= om.pools().at(st.pool()).pg_num()) continue;
      PgView& pg = v.pgs[f->second + st.seed()];
      if (pg.epoch != 0 || StateHas(pg.state, "stale")) continue;  // a live primary reported it
      pg.state = "stale+" + (st.state().empty() ? std::string("unknown") : st.state());
      pg.up.assign(st.up().begin(), st.up().end());
      pg.acting.assign(st.acting().begin(), st.acting().end());
      pg.primary = osd;
      pg.num_objects = st.num_objects();
      pg.num_bytes = st.num_bytes();
      pg.last_update = EVersionString(st.last_update());
    }
  }
  for (auto& pg : v.pgs) {
    // Copies are in OSD id order already: by_osd_ is ordered by id.
    ++v.by_state[pg.state];
    v.num_objects += pg.num_objects;
    v.data_bytes += pg.num_bytes;
  }
  for (const auto& [osd, s] : v.osd_stats) {
    v.kb += s.kb();
    v.kb_used += s.kb_used();
    v.kb_avail += s.kb_avail();
  }
  return v;
}

}  // namespace nacre::mon
