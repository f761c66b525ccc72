// `nacre crush ...`: offline tools for CRUSH maps, in the spirit of Ceph's
// crushtool. They read and write files only (no cluster needed), so an
// operator can compile a map, look at its tree, and measure what a change
// would move before handing the map to the monitors.
//
//   nacre crush build --in FILE [--json] --out MAP.bin
//   nacre crush decompile MAP [--out FILE]
//   nacre crush tree MAP [--show-shadow]
//   nacre crush test MAP --rule R --num-rep N [--min-x A] [--max-x B]
//                    [--show-mappings] [--show-utilization] [--weight OSD W]...
//   nacre crush compare MAP1 MAP2 --rule R --num-rep N [--min-x A] [--max-x B]
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "client/cli.h"
#include "crush/crush_map.h"
#include "crush/formats.h"

namespace nacre::cli {

namespace {

using crush::CrushMap;

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open '" + path + "': " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return IOError("cannot read '" + path + "'");
  if (static_cast<uint64_t>(size) > max_bytes)
    return TooBig("'" + path + "' is " + std::to_string(size) + " bytes (max " + std::to_string(max_bytes) + ")");
  std::string data(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(data.data(), size)) return IOError("cannot read '" + path + "'");
  return data;
}

Status WriteFile(const std::string& path, const std::string& data) {
  // Write beside, then rename: a failed write never leaves half a map.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IOError("cannot create '" + tmp + "': " + std::strerror(errno));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) return IOError("cannot write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const Status s = IOError("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
    std::remove(tmp.c_str());
    return s;
  }
  return Status::OK();
}

Result<CrushMap> LoadMap(const std::string& path) {
  NACRE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, crush::kMaxEncodedBytes));
  Result<CrushMap> m = CrushMap::DecodeFromString(bytes);
  if (!m.ok()) return m.status().Annotate(path);
  return m;
}

// A rule named by id ("0") or by name ("replicated_rule").
Result<int32_t> ResolveRule(const CrushMap& m, const std::string& spec) {
  int32_t id = 0;
  auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), id);
  if (ec == std::errc() && end == spec.data() + spec.size()) {
    if (m.FindRule(id) == nullptr) return NotFound("no rule with id " + spec);
    return id;
  }
  const crush::Rule* r = m.FindRuleByName(spec);
  if (r == nullptr) return NotFound("no rule named '" + spec + "'");
  return r->id;
}

// The mapping inputs and overrides shared by `test` and `compare`.
struct MappingArgs {
  std::string rule = "0";
  int num_rep = 3;
  int64_t min_x = 0;
  int64_t max_x = 1023;
  // --weight OSD W (0..1). W stays text until Check(): CLI11's pair<int,
  // double> conversion trips -Wmaybe-uninitialized.
  std::vector<std::pair<int, std::string>> weights;

  void Register(CLI::App* cmd) {
    cmd->add_option("--rule", rule, "rule id or name")->required();
    cmd->add_option("--num-rep", num_rep, "pool size (replicas, or k+m)")->required();
    cmd->add_option("--min-x", min_x, "first input (default 0)");
    cmd->add_option("--max-x", max_x, "last input (default 1023)");
    cmd->add_option("--weight", weights, "in/out weight of an OSD, 0 (out) to 1 (in); repeatable")
        ->allow_extra_args(false);
  }

  Status Check() const {
    if (num_rep < 1 || num_rep > crush::kMaxResult)
      return OutOfRange("--num-rep " + std::to_string(num_rep) + " out of range [1, " +
                        std::to_string(crush::kMaxResult) + "]");
    if (min_x < 0 || max_x > UINT32_MAX || min_x > max_x)
      return OutOfRange("inputs must satisfy 0 <= --min-x <= --max-x <= 4294967295");
    return Status::OK();
  }

  // The in/out weights: every device in, then the --weight overrides.
  Result<std::vector<uint32_t>> Reweight(int32_t max_devices) const {
    std::vector<uint32_t> rw(max_devices, crush::kWeightOne);
    for (const auto& [osd, text] : weights) {
      double w = -1;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), w);
      if (ec != std::errc() || end != text.data() + text.size() || osd < 0 || osd >= crush::kMaxDevices ||
          !(w >= 0.0 && w <= 1.0))
        return OutOfRange("--weight " + std::to_string(osd) + " " + text + ": needs an OSD id and a weight in [0, 1]");
      if (osd >= static_cast<int>(rw.size())) rw.resize(osd + 1, crush::kWeightOne);
      rw[osd] = static_cast<uint32_t>(std::lround(w * crush::kWeightOne));
    }
    return rw;
  }
};

std::string FormatList(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

double WeightValue(uint64_t w) { return static_cast<double>(w) / crush::kWeightOne; }

// ---- build / decompile ----------------------------------------------------

void Build(Context& ctx, const std::string& in, bool json, const std::string& out) {
  Result<std::string> text = ReadFile(in, crush::kMaxTextBytes);
  if (!text.ok()) return ctx.Fail(text.status());
  Result<CrushMap> m = json ? crush::ParseCrushJson(*text) : crush::ParseCrushText(*text);
  if (!m.ok()) return ctx.Fail(m.status().Annotate(in));
  const std::string bytes = m->EncodeToString();
  if (Status s = WriteFile(out, bytes); !s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson({{"out", out}, {"bytes", bytes.size()}, {"devices", m->devices().size()},
                   {"buckets", m->buckets().size()}, {"rules", m->rules().size()}});
  } else {
    std::cout << "wrote " << out << ": " << m->devices().size() << " devices, " << m->buckets().size()
              << " buckets, " << m->rules().size() << " rules (" << bytes.size() << " bytes)\n";
  }
}

void Decompile(Context& ctx, const std::string& path, const std::string& out) {
  Result<CrushMap> m = LoadMap(path);
  if (!m.ok()) return ctx.Fail(m.status());
  const std::string text = crush::FormatCrushText(*m);
  if (out.empty()) {
    std::cout << text;
  } else if (Status s = WriteFile(out, text); !s.ok()) {
    ctx.Fail(s);
  }
}

// ---- tree -------------------------------------------------------------------

class TreePrinter {
 public:
  // device_class empty: the whole tree; else that class's view.
  TreePrinter(const CrushMap& m, std::string device_class) : m(m), device_class(std::move(device_class)) {}

  const CrushMap& m;
  const std::string device_class;
  std::ostringstream plain;
  nlohmann::json nodes = nlohmann::json::array();

  bool HasClass(int32_t id) const {
    if (id >= 0) return m.FindDevice(id)->device_class == device_class;
    for (int32_t item : m.FindBucket(id)->items)
      if (HasClass(item)) return true;
    return false;
  }

  // Validated maps are at most kMaxDepth deep, so recursion is bounded.
  void Print(int32_t id, int depth) {
    if (!device_class.empty() && !HasClass(id)) return;
    const crush::Device* d = m.FindDevice(id);
    const crush::Bucket* b = m.FindBucket(id);
    const int32_t type_id = d ? 0 : b->type;
    const std::string type = m.FindType(type_id)->name;
    const std::string name = b && !device_class.empty() ? b->name + "~" + device_class : m.ItemName(id);
    const uint64_t weight = m.ItemWeight(id, device_class);
    char line[64];
    std::snprintf(line, sizeof(line), "%4d  %5s  %10s  ", id, d ? d->device_class.c_str() : "",
                  crush::FormatWeight(weight).c_str());
    plain << line << std::string(4 * depth, ' ') << (d ? "" : type + " ") << name << "\n";
    nlohmann::json node = {{"id", id}, {"name", name}, {"type", type}, {"type_id", type_id},
                           {"crush_weight", WeightValue(weight)}, {"depth", depth}};
    if (d) {
      node["device_class"] = d->device_class;
    } else {
      nlohmann::json children = nlohmann::json::array();
      for (int32_t item : b->items)
        if (device_class.empty() || HasClass(item)) children.push_back(item);
      node["children"] = children;
    }
    nodes.push_back(std::move(node));
    if (b)
      for (int32_t item : b->items) Print(item, depth + 1);
  }

  void PrintRoots() {
    for (const crush::Bucket& b : m.buckets())
      if (m.ParentOf(b.id) == 0) Print(b.id, 0);
  }
};

void Tree(Context& ctx, const std::string& path, bool show_shadow) {
  Result<CrushMap> m = LoadMap(path);
  if (!m.ok()) return ctx.Fail(m.status());
  TreePrinter all{*m, ""};
  all.PrintRoots();
  // Devices in no bucket receive no data; list them apart, as Ceph does.
  nlohmann::json stray = nlohmann::json::array();
  for (const crush::Device& d : m->devices()) {
    if (m->ParentOf(d.id) != 0) continue;
    all.Print(d.id, 0);
    stray.push_back(d.id);
  }
  std::string shadow_text;
  nlohmann::json shadow = nlohmann::json::object();
  if (show_shadow) {
    for (const std::string& c : m->classes()) {
      TreePrinter view{*m, c};
      view.PrintRoots();
      shadow_text += view.plain.str();
      shadow[c] = std::move(view.nodes);
    }
  }
  if (ctx.json()) {
    nlohmann::json j = {{"nodes", all.nodes}, {"stray", stray}};
    if (show_shadow) j["shadow"] = shadow;
    ctx.PrintJson(j);
  } else {
    std::cout << "  ID  CLASS      WEIGHT  TYPE NAME\n" << shadow_text << all.plain.str();
  }
}

// ---- test / compare -----------------------------------------------------------

// Devices a rule can reach and their effective weights, for the expected
// column of --show-utilization.
std::map<int32_t, double> ReachableWeights(const CrushMap& m, int32_t rule, const std::vector<uint32_t>& rw) {
  std::map<int32_t, double> out;
  for (const crush::Step& s : m.FindRule(rule)->steps) {
    if (s.op != crush::StepOp::kTake) continue;
    std::vector<int32_t> stack{s.arg1};
    while (!stack.empty()) {  // bounded: a validated map is a finite forest
      const int32_t id = stack.back();
      stack.pop_back();
      if (const crush::Bucket* b = m.FindBucket(id)) {
        stack.insert(stack.end(), b->items.begin(), b->items.end());
      } else if (s.device_class.empty() || m.FindDevice(id)->device_class == s.device_class) {
        const double reweight = id < static_cast<int32_t>(rw.size()) ? WeightValue(rw[id]) : 0.0;
        out[id] = WeightValue(m.FindDevice(id)->weight) * reweight;
      }
    }
  }
  return out;
}

void Test(Context& ctx, const std::string& path, const MappingArgs& args, bool show_mappings, bool show_util) {
  if (Status s = args.Check(); !s.ok()) return ctx.Fail(s);
  Result<CrushMap> m = LoadMap(path);
  if (!m.ok()) return ctx.Fail(m.status());
  Result<int32_t> rule = ResolveRule(*m, args.rule);
  if (!rule.ok()) return ctx.Fail(rule.status());
  Result<std::vector<uint32_t>> reweight = args.Reweight(m->max_devices());
  if (!reweight.ok()) return ctx.Fail(reweight.status());
  const std::vector<uint32_t>& rw = *reweight;

  std::map<int, uint64_t> sizes;     // result size (NONE excluded) -> inputs
  std::map<int32_t, uint64_t> stored;  // device -> placements
  uint64_t placed = 0;
  nlohmann::json mappings = nlohmann::json::array();
  std::vector<int> out;
  for (int64_t x = args.min_x; x <= args.max_x; ++x) {
    if (Status s = m->DoRule(*rule, static_cast<uint32_t>(x), args.num_rep, rw, &out); !s.ok()) return ctx.Fail(s);
    int size = 0;
    for (int osd : out) {
      if (osd == crush::kItemNone) continue;
      ++size;
      ++stored[osd];
    }
    placed += size;
    ++sizes[size];
    if (show_mappings) {
      if (ctx.json()) {
        mappings.push_back({{"x", x}, {"osds", out}});
      } else {
        std::cout << "CRUSH rule " << *rule << " x " << x << " " << FormatList(out) << "\n";
      }
    }
  }
  const std::string& rule_name = m->FindRule(*rule)->name;
  const uint64_t inputs = static_cast<uint64_t>(args.max_x - args.min_x + 1);
  nlohmann::json util = nlohmann::json::array();
  std::ostringstream util_text;
  if (show_util) {
    const std::map<int32_t, double> reach = ReachableWeights(*m, *rule, rw);
    double total = 0;
    for (const auto& [id, w] : reach) total += w;
    for (const auto& [id, w] : reach) {
      const uint64_t got = stored.count(id) ? stored[id] : 0;
      const double expected = total > 0 ? placed * w / total : 0.0;
      util.push_back({{"device", id}, {"name", m->ItemName(id)}, {"stored", got}, {"expected", expected}});
      util_text << "  device " << id << ":\t\t stored : " << got << "\t expected : " << expected << "\n";
    }
  }
  if (ctx.json()) {
    nlohmann::json j = {{"rule", *rule}, {"rule_name", rule_name}, {"num_rep", args.num_rep},
                        {"min_x", args.min_x}, {"max_x", args.max_x}, {"inputs", inputs}, {"placements", placed}};
    nlohmann::json js = nlohmann::json::object();
    for (const auto& [size, n] : sizes) js[std::to_string(size)] = n;
    j["result_sizes"] = js;
    if (show_mappings) j["mappings"] = std::move(mappings);
    if (show_util) j["utilization"] = std::move(util);
    ctx.PrintJson(j);
    return;
  }
  for (const auto& [size, n] : sizes)
    std::cout << "rule " << *rule << " (" << rule_name << ") num_rep " << args.num_rep << " result size == " << size
              << ":\t" << n << "/" << inputs << "\n";
  std::cout << util_text.str();
}

void Compare(Context& ctx, const std::string& path1, const std::string& path2, const MappingArgs& args) {
  if (Status s = args.Check(); !s.ok()) return ctx.Fail(s);
  Result<CrushMap> a = LoadMap(path1);
  if (!a.ok()) return ctx.Fail(a.status());
  Result<CrushMap> b = LoadMap(path2);
  if (!b.ok()) return ctx.Fail(b.status());
  Result<int32_t> rule_a = ResolveRule(*a, args.rule);
  if (!rule_a.ok()) return ctx.Fail(rule_a.status().Annotate(path1));
  Result<int32_t> rule_b = ResolveRule(*b, args.rule);
  if (!rule_b.ok()) return ctx.Fail(rule_b.status().Annotate(path2));
  Result<std::vector<uint32_t>> reweight = args.Reweight(std::max(a->max_devices(), b->max_devices()));
  if (!reweight.ok()) return ctx.Fail(reweight.status());
  const std::vector<uint32_t>& rw = *reweight;

  uint64_t changed = 0, placements = 0, moved = 0;
  std::vector<int> before, after;
  for (int64_t x = args.min_x; x <= args.max_x; ++x) {
    const uint32_t ux = static_cast<uint32_t>(x);
    if (Status s = a->DoRule(*rule_a, ux, args.num_rep, rw, &before); !s.ok()) return ctx.Fail(s);
    if (Status s = b->DoRule(*rule_b, ux, args.num_rep, rw, &after); !s.ok()) return ctx.Fail(s);
    if (before != after) ++changed;
    // A placement moved when the new mapping has an OSD the old one lacked.
    for (int osd : after) {
      if (osd == crush::kItemNone) continue;
      ++placements;
      if (std::find(before.begin(), before.end(), osd) == before.end()) ++moved;
    }
  }
  const uint64_t inputs = static_cast<uint64_t>(args.max_x - args.min_x + 1);
  if (ctx.json()) {
    ctx.PrintJson({{"rule", *rule_a}, {"num_rep", args.num_rep}, {"min_x", args.min_x}, {"max_x", args.max_x},
                   {"inputs", inputs}, {"changed_mappings", changed}, {"placements", placements},
                   {"moved_placements", moved}});
    return;
  }
  auto pct = [](uint64_t n, uint64_t d) { return d ? 100.0 * static_cast<double>(n) / static_cast<double>(d) : 0.0; };
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "rule %d num_rep %d x [%lld, %lld]: %llu/%llu mappings changed (%.2f%%), "
                "%llu/%llu placements moved (%.2f%%)\n",
                *rule_a, args.num_rep, static_cast<long long>(args.min_x), static_cast<long long>(args.max_x),
                static_cast<unsigned long long>(changed), static_cast<unsigned long long>(inputs), pct(changed, inputs),
                static_cast<unsigned long long>(moved), static_cast<unsigned long long>(placements),
                pct(moved, placements));
  std::cout << buf;
}

}  // namespace

void RegisterCrushCommands(CLI::App& app, Context& ctx) {
  CLI::App* crush = app.add_subcommand("crush", "compile, inspect and test CRUSH maps (offline)");
  crush->require_subcommand(1);

  {
    auto* cmd = crush->add_subcommand("build", "compile a text (or --json) map description into an encoded map");
    auto in = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("--in", *in, "map description file")->required();
    cmd->add_option("--out", *out, "encoded map to write")->required();
    cmd->add_flag("--json", *json, "the description is JSON");
    cmd->callback([&ctx, in, out, json] { Build(ctx, *in, *json, *out); });
  }
  {
    auto* cmd = crush->add_subcommand("decompile", "print an encoded map in the text format");
    auto path = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    cmd->add_option("map", *path, "encoded map")->required();
    cmd->add_option("--out", *out, "write to this file instead of stdout");
    cmd->callback([&ctx, path, out] { Decompile(ctx, *path, *out); });
  }
  {
    auto* cmd = crush->add_subcommand("tree", "show the hierarchy: ID CLASS WEIGHT TYPE NAME");
    auto path = std::make_shared<std::string>();
    auto shadow = std::make_shared<bool>(false);
    cmd->add_option("map", *path, "encoded map")->required();
    cmd->add_flag("--show-shadow", *shadow, "also show each device class's view of the tree");
    cmd->callback([&ctx, path, shadow] { Tree(ctx, *path, *shadow); });
  }
  {
    auto* cmd = crush->add_subcommand("test", "map a range of inputs through a rule");
    auto path = std::make_shared<std::string>();
    auto args = std::make_shared<MappingArgs>();
    auto mappings = std::make_shared<bool>(false);
    auto util = std::make_shared<bool>(false);
    cmd->add_option("map", *path, "encoded map")->required();
    args->Register(cmd);
    cmd->add_flag("--show-mappings", *mappings, "print every input's OSDs");
    cmd->add_flag("--show-utilization", *util, "print placements per device against the expected share");
    cmd->callback([&ctx, path, args, mappings, util] { Test(ctx, *path, *args, *mappings, *util); });
  }
  {
    auto* cmd = crush->add_subcommand("compare", "count the mappings that differ between two maps");
    auto path1 = std::make_shared<std::string>();
    auto path2 = std::make_shared<std::string>();
    auto args = std::make_shared<MappingArgs>();
    cmd->add_option("map1", *path1, "encoded map (before)")->required();
    cmd->add_option("map2", *path2, "encoded map (after)")->required();
    args->Register(cmd);
    cmd->callback([&ctx, path1, path2, args] { Compare(ctx, *path1, *path2, *args); });
  }
}

}  // namespace nacre::cli
