#include "common/config.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/log.h"

namespace nacre {

namespace {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

const char* TypeName(OptType t) {
  switch (t) {
    case OptType::kString: return "str";
    case OptType::kInt: return "int";
    case OptType::kBool: return "bool";
    case OptType::kDouble: return "float";
    case OptType::kSize: return "size";
    case OptType::kSeconds: return "secs";
  }
  return "?";
}

}  // namespace

std::string NormalizeOptionName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : Trim(name)) {
    if (c == ' ' || c == '-' || c == '\t') {
      if (out.empty() || out.back() != '_') out.push_back('_');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const OptionDef* FindOption(std::string_view name) {
  std::string n = NormalizeOptionName(name);
  for (const OptionDef& d : AllOptions())
    if (n == d.name) return &d;
  return nullptr;
}

Result<int64_t> ParseSize(std::string_view t) {
  t = Trim(t);
  if (t.empty()) return Invalid("empty size");
  int64_t mult = 1;
  char last = t.back();
  switch (last) {
    case 'K': case 'k': mult = int64_t{1} << 10; break;
    case 'M': case 'm': mult = int64_t{1} << 20; break;
    case 'G': case 'g': mult = int64_t{1} << 30; break;
    case 'T': case 't': mult = int64_t{1} << 40; break;
    default: break;
  }
  if (mult != 1) t.remove_suffix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || v < 0) return Invalid("not a size: '" + std::string(t) + "'");
  if (v > INT64_MAX / mult) return OutOfRange("size too large");
  return v * mult;
}

Result<std::string> ValidateOptionValue(OptType t, std::string_view raw) {
  std::string_view v = Trim(raw);
  switch (t) {
    case OptType::kString:
      return std::string(v);
    case OptType::kInt: {
      int64_t x = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (v.empty() || ec != std::errc() || p != v.data() + v.size())
        return Invalid("not an integer: '" + std::string(v) + "'");
      return std::to_string(x);
    }
    case OptType::kSize: {
      auto r = ParseSize(v);
      if (!r.ok()) return r.status();
      return std::to_string(*r);
    }
    case OptType::kBool: {
      if (v == "true" || v == "1" || v == "yes" || v == "on") return std::string("true");
      if (v == "false" || v == "0" || v == "no" || v == "off") return std::string("false");
      return Invalid("not a boolean: '" + std::string(v) + "'");
    }
    case OptType::kDouble:
    case OptType::kSeconds: {
      std::string s(v);
      char* end = nullptr;
      double d = strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() || d != d) return Invalid("not a number: '" + s + "'");
      if (t == OptType::kSeconds && d < 0) return Invalid("negative duration: '" + s + "'");
      std::ostringstream os;
      os.precision(17);
      os << d;
      return os.str();
    }
  }
  return Invalid("unknown option type");
}

Result<IniSections> ParseIni(std::string_view text) {
  if (text.size() > kMaxConfigBytes) return TooBig("config is larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  IniSections out;
  std::string section = "global";
  size_t lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    std::string where = "line " + std::to_string(lineno);
    if (line.size() > kMaxConfigLineBytes) return TooBig(where + ": line too long");
    // A comment starts at '#' or ';' outside quotes.
    bool in_quote = false;
    size_t cut = line.size();
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"') in_quote = !in_quote;
      if (!in_quote && (line[i] == '#' || line[i] == ';')) {
        cut = i;
        break;
      }
    }
    line = Trim(line.substr(0, cut));
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) return Invalid(where + ": malformed section header");
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      if (section.empty() || section.find_first_of("[]= ") != std::string::npos)
        return Invalid(where + ": bad section name");
      out[section];
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Invalid(where + ": expected 'key = value'");
    std::string key = NormalizeOptionName(line.substr(0, eq));
    std::string_view val = Trim(line.substr(eq + 1));
    if (key.empty()) return Invalid(where + ": empty key");
    if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
    else if (val.find('"') != std::string_view::npos) return Invalid(where + ": unbalanced quote");
    out[section][key] = std::string(val);
  }
  return out;
}

Config::Config(std::string entity) : entity_(std::move(entity)) {}

std::string Config::entity_type() const {
  size_t dot = entity_.find('.');
  return dot == std::string::npos ? entity_ : entity_.substr(0, dot);
}

std::string Config::entity_id() const {
  size_t dot = entity_.find('.');
  return dot == std::string::npos ? std::string() : entity_.substr(dot + 1);
}

Status Config::Set(std::string_view name, std::string_view value) {
  const OptionDef* d = FindOption(name);
  if (!d) return Invalid("unknown option '" + std::string(name) + "'");
  auto v = ValidateOptionValue(d->type, value);
  if (!v.ok()) return v.status().Annotate(d->name);
  values_[d->name] = std::move(v).value();
  return Status::OK();
}

Status Config::ApplyIniText(std::string_view text) {
  NACRE_ASSIGN_OR_RETURN(IniSections ini, ParseIni(text));
  // Lower precedence first so later sections override.
  for (const std::string& sec : {std::string("global"), entity_type(), entity_}) {
    auto it = ini.find(sec);
    if (it == ini.end()) continue;
    for (const auto& [k, v] : it->second) NACRE_RETURN_IF_ERROR(Set(k, v).Annotate("[" + sec + "]"));
  }
  return Status::OK();
}

Status Config::ApplyFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot open config file " + path);
  std::string text;
  text.resize(kMaxConfigBytes + 1);
  f.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(f.gcount()));
  return ApplyIniText(text).Annotate(path);
}

Status Config::ApplyArgs(std::vector<std::string>* args, const std::string& default_type, bool* help) {
  std::vector<std::string> rest;
  std::vector<std::pair<std::string, std::string>> flags;
  std::string conf_path;
  auto& a = *args;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& s = a[i];
    if (s == "--help" || s == "-h") {
      if (help) *help = true;
      continue;
    }
    if (s.rfind("--", 0) != 0 && s != "-n" && s != "-c") {
      rest.push_back(s);
      continue;
    }
    std::string key, val;
    bool has_val = false;
    size_t eq = s.find('=');
    if (s.rfind("--", 0) == 0 && eq != std::string::npos) {
      key = s.substr(2, eq - 2);
      val = s.substr(eq + 1);
      has_val = true;
    } else {
      key = s == "-n" ? "name" : s == "-c" ? "conf" : s.substr(2);
    }
    std::string norm = NormalizeOptionName(key);
    bool ours = norm == "conf" || norm == "name" || norm == "id" || FindOption(norm) != nullptr;
    if (!ours) {
      rest.push_back(s);
      continue;
    }
    if (!has_val) {
      if (i + 1 >= a.size()) return Invalid("option --" + key + " needs a value");
      val = a[++i];
    }
    if (norm == "conf") conf_path = val;
    else if (norm == "name") entity_ = val;
    else if (norm == "id") entity_ = default_type + "." + val;
    else flags.emplace_back(norm, val);
  }
  if (entity_.find('.') == std::string::npos || entity_.front() == '.' || entity_.back() == '.')
    return Invalid("entity name must be TYPE.ID, got '" + entity_ + "'");
  if (!conf_path.empty()) NACRE_RETURN_IF_ERROR(ApplyFile(conf_path));
  for (const auto& [k, v] : flags) NACRE_RETURN_IF_ERROR(Set(k, v).Annotate("--" + k));
  *args = std::move(rest);
  return Status::OK();
}

const std::string& Config::Raw(std::string_view name) const {
  std::string n = NormalizeOptionName(name);
  auto it = values_.find(n);
  if (it != values_.end()) return it->second;
  const OptionDef* d = FindOption(n);
  // Asking for an undeclared option is a programming error, not bad input.
  if (!d) {
    NLOG(config, kError) << "undeclared option requested: " << n;
    abort();
  }
  static thread_local std::string def;
  auto v = ValidateOptionValue(d->type, d->default_value);
  def = v.ok() ? *v : d->default_value;
  return def;
}

std::string Config::GetString(std::string_view name) const {
  // Ceph-style metavariables, so one [osd] section can say
  // "osd data = /var/lib/nacre/osd/$id" for every OSD.
  std::string v = Raw(name);
  if (v.find('$') == std::string::npos) return v;
  const std::pair<const char*, std::string> vars[] = {{"$name", entity_}, {"$type", entity_type()}, {"$id", entity_id()}};
  for (const auto& [var, val] : vars) {
    for (size_t pos = v.find(var); pos != std::string::npos; pos = v.find(var, pos + val.size()))
      v.replace(pos, strlen(var), val);
  }
  return v;
}
int64_t Config::GetInt(std::string_view name) const { return strtoll(Raw(name).c_str(), nullptr, 10); }
bool Config::GetBool(std::string_view name) const { return Raw(name) == "true"; }
double Config::GetDouble(std::string_view name) const { return strtod(Raw(name).c_str(), nullptr); }
bool Config::IsSet(std::string_view name) const { return values_.count(NormalizeOptionName(name)) != 0; }

std::map<std::string, std::string> Config::Dump() const {
  std::map<std::string, std::string> out;
  for (const OptionDef& d : AllOptions()) out[d.name] = Raw(d.name);
  return out;
}

Status Config::ApplyLogging() const {
  log::Level base;
  if (!log::ParseLevel(GetString("log_level"), &base)) return Invalid("log_level: unknown level '" + GetString("log_level") + "'");
  log::SetAllLevels(base);
  for (int i = 0; i < static_cast<int>(log::Subsys::kCount); ++i) {
    auto s = static_cast<log::Subsys>(i);
    std::string opt = std::string("debug_") + log::SubsysName(s);
    if (!IsSet(opt)) continue;
    log::Level l;
    if (!log::ParseLevel(GetString(opt), &l)) return Invalid(opt + ": unknown level '" + GetString(opt) + "'");
    log::SetLevel(s, l);
  }
  if (!log::SetLogFile(GetString("log_file"))) return IOError("cannot open log_file " + GetString("log_file"));
  log::SetProcessTag(entity_);
  return Status::OK();
}

std::string Config::HelpText(std::string_view usage) {
  std::ostringstream os;
  os << "usage: " << usage << "\n\n"
     << "common flags:\n"
     << "  --conf, -c PATH        config file (nacre.conf, ceph.conf-style INI)\n"
     << "  --name, -n TYPE.ID     entity name (e.g. osd.3)\n"
     << "  --id ID                entity id, with this program's type\n"
     << "  --help, -h             this text\n\n"
     << "options (set in the config file or as --name value):\n";
  for (const OptionDef& d : AllOptions()) {
    os << "  --" << d.name << " <" << TypeName(d.type) << ">";
    if (*d.default_value) os << " (default " << d.default_value << ")";
    os << "\n      " << d.description << "\n";
  }
  return os.str();
}

}  // namespace nacre
