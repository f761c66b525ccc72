#include "daemons/osd/pg/peering.h"

#include <algorithm>

namespace nacre::osd::pg {

namespace {

bool LogHas(const std::vector<proto::PgLogEntryProto>& log, EVersion v) {
  auto it = std::lower_bound(log.begin(), log.end(), v, [](const proto::PgLogEntryProto& a, const EVersion& x) {
    return FromProto(a.version()) < x;
  });
  return it != log.end() && FromProto(it->version()) == v;
}

// The newest version the authoritative log holds for each object it names.
std::map<ObjectId, EVersion> NewestByObject(const std::vector<proto::PgLogEntryProto>& log) {
  std::map<ObjectId, EVersion> out;
  for (const auto& e : log) out[EntryObject(e)] = FromProto(e.version());
  return out;
}

}  // namespace

bool LogMissing(const PeerReport& auth, const PeerReport& member, MissingSet* out) {
  if (member.info.backfilling()) return false;
  EVersion a_tail = FromProto(auth.info.log_tail());
  EVersion m_last = FromProto(member.info.last_update());
  EVersion m_tail = FromProto(member.info.log_tail());
  if (m_last < a_tail) return false;
  auto newest = NewestByObject(auth.log);
  auto need_of = [&](const ObjectId& o) {
    auto it = newest.find(o);
    return it == newest.end() ? EVersion{} : it->second;
  };
  // Authoritative writes the member has not applied. Entries at or before
  // the member's own tail were applied and trimmed there.
  EVersion floor = std::max(a_tail, m_tail);
  for (const auto& e : auth.log) {
    EVersion v = FromProto(e.version());
    if (v <= floor || LogHas(member.log, v)) continue;
    (*out)[EntryObject(e)] = need_of(EntryObject(e));
  }
  // The member's writes the authoritative history does not contain.
  for (const auto& e : member.log) {
    EVersion v = FromProto(e.version());
    if (v <= a_tail || LogHas(auth.log, v)) continue;
    (*out)[EntryObject(e)] = need_of(EntryObject(e));
  }
  return true;
}

MissingSet BackfillMissing(const std::map<ObjectId, EVersion>& auth, const std::map<ObjectId, EVersion>& member,
                           const MissingSet& auth_missing) {
  MissingSet out;
  for (const auto& [o, v] : auth) {
    auto it = member.find(o);
    if (it == member.end() || it->second != v) out[o] = v;
  }
  for (const auto& [o, v] : member)
    if (!auth.count(o)) out[o] = EVersion{};
  for (const auto& [o, need] : auth_missing) out[o] = need;
  return out;
}

Result<PeeringPlan> PlanPeering(const std::vector<int>& acting, const std::vector<PeerReport>& reports) {
  if (acting.empty()) return Invalid("empty acting set");
  int primary = acting[0];
  auto rank = [&](int osd) {
    if (osd == primary) return 0;
    return std::find(acting.begin(), acting.end(), osd) != acting.end() ? 1 : 2;
  };
  const PeerReport* auth = nullptr;
  for (const auto& r : reports) {
    if (r.info.backfilling()) continue;
    if (!auth) {
      auth = &r;
      continue;
    }
    EVersion a = FromProto(auth->info.last_update()), b = FromProto(r.info.last_update());
    if (b > a || (b == a && rank(r.osd) < rank(auth->osd))) auth = &r;
  }
  if (!auth) return TryAgain("no complete copy of the PG among the " + std::to_string(reports.size()) + " that answered");

  PeeringPlan plan;
  plan.auth = auth->osd;
  plan.last_update = FromProto(auth->info.last_update());
  plan.log_tail = FromProto(auth->info.log_tail());
  plan.log = auth->log;
  auto newest = NewestByObject(auth->log);
  for (const auto& [o, need] : auth->missing) {
    auto it = newest.find(o);
    plan.auth_missing[o] = it == newest.end() ? need : it->second;
  }

  // Everyone's view of what they lack, acting members and strays alike: a
  // stray that holds an object can serve it to the primary.
  std::map<int, MissingSet> lacks;
  std::set<int> incomplete;
  for (const auto& r : reports) {
    MissingSet m;
    if (&r != auth && !LogMissing(*auth, r, &m)) {
      incomplete.insert(r.osd);
      continue;
    }
    for (const auto& [o, need] : r.missing) {
      auto it = newest.find(o);
      m[o] = it == newest.end() ? need : it->second;
    }
    lacks[r.osd] = std::move(m);
  }
  for (int osd : acting) {
    bool reported = std::any_of(reports.begin(), reports.end(), [&](const PeerReport& r) { return r.osd == osd; });
    if (!reported || incomplete.count(osd)) {
      plan.backfill.insert(osd);
      plan.missing[osd];  // filled from the object listing by the caller
    } else {
      plan.missing[osd] = lacks[osd];
    }
  }
  // Sources for what the primary lacks (log-based; a backfilling primary
  // pulls everything from the authoritative member).
  auto holds = [&](int osd, const ObjectId& o) {
    auto it = lacks.find(osd);
    return it != lacks.end() && !it->second.count(o);
  };
  for (const auto& [o, need] : plan.missing[primary]) {
    int src = -1;
    if (holds(auth->osd, o)) src = auth->osd;
    for (size_t i = 0; src < 0 && i < reports.size(); ++i)
      if (reports[i].osd != primary && holds(reports[i].osd, o)) src = reports[i].osd;
    if (src < 0) plan.unfound.insert(o);
    else plan.pull_from[o] = src;
  }
  return plan;
}

}  // namespace nacre::osd::pg
