// ParseCrushText: a tokenizer (words, '{', '}', '#' comments) and a
// recursive-descent parser one level deep (statements, and the bodies of
// buckets and rules). Name resolution and validation are CrushBuilder's.
#include <charconv>
#include <optional>
#include <vector>

#include "crush/builder.h"
#include "crush/formats.h"

namespace nacre::crush {

namespace {

struct Token {
  std::string_view text;
  int line;
};

class TextParser {
 public:
  explicit TextParser(std::string_view text) : text_(text) {}

  Result<CrushMap> Parse() {
    NACRE_RETURN_IF_ERROR(Tokenize());
    while (!AtEnd()) NACRE_RETURN_IF_ERROR(Statement());
    return builder_.Build();
  }

 private:
  Status Tokenize() {
    int line = 1;
    size_t i = 0;
    while (i < text_.size()) {
      const char ch = text_[i];
      if (ch == '\n') {
        ++line;
        ++i;
      } else if (ch == ' ' || ch == '\t' || ch == '\r') {
        ++i;
      } else if (ch == '#') {
        while (i < text_.size() && text_[i] != '\n') ++i;
      } else if (ch == '{' || ch == '}') {
        tokens_.push_back({text_.substr(i, 1), line});
        ++i;
      } else if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) {
        return Invalid("line " + std::to_string(line) + ": unexpected byte " +
                       std::to_string(static_cast<unsigned char>(ch)) + " (the format is ASCII text)");
      } else {
        const size_t start = i;
        while (i < text_.size() && !IsBreak(text_[i])) ++i;
        tokens_.push_back({text_.substr(start, i - start), line});
      }
    }
    return Status::OK();
  }

  static bool IsBreak(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '#' || c == '{' || c == '}' ||
           static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f;
  }

  bool AtEnd() const { return pos_ >= tokens_.size(); }
  int Line() const { return AtEnd() ? (tokens_.empty() ? 1 : tokens_.back().line) : tokens_[pos_].line; }
  std::string Where() const { return "line " + std::to_string(Line()); }
  bool Peek(std::string_view word) const { return !AtEnd() && tokens_[pos_].text == word; }

  Status Error(const std::string& msg) const { return Invalid(Where() + ": " + msg); }
  Status Expected(const std::string& what) const {
    if (AtEnd()) return Error("unexpected end of input, expected " + what);
    std::string got(tokens_[pos_].text.substr(0, 40));
    return Error("expected " + what + ", got '" + got + "'");
  }

  Result<std::string_view> Word(const char* what) {
    if (AtEnd() || tokens_[pos_].text == "{" || tokens_[pos_].text == "}") return Expected(what);
    return tokens_[pos_++].text;
  }
  Status Keyword(std::string_view word) {
    if (!Peek(word)) return Expected("'" + std::string(word) + "'");
    ++pos_;
    return Status::OK();
  }
  Result<int64_t> Integer(const char* what) {
    if (AtEnd()) return Expected(what);
    std::string_view t = tokens_[pos_].text;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc::result_out_of_range) return Error(std::string(what) + " out of range");
    if (ec != std::errc() || end != t.data() + t.size()) return Expected(what);
    ++pos_;
    return v;
  }
  // Counts and tries are small; clamp parsing to int32 so a huge value
  // reports "out of range" here rather than wrapping.
  Result<int32_t> SmallInteger(const char* what) {
    NACRE_ASSIGN_OR_RETURN(int64_t v, Integer(what));
    if (v < -1000000 || v > 1000000) return Invalid(Where() + ": " + what + " " + std::to_string(v) + " out of range");
    return static_cast<int32_t>(v);
  }

  Status Statement() {
    const std::string where = Where();
    NACRE_ASSIGN_OR_RETURN(std::string_view word, Word("a statement"));
    if (word == "tunable") {
      NACRE_ASSIGN_OR_RETURN(std::string_view name, Word("a tunable name"));
      if (name != "choose_total_tries") return Error("unknown tunable '" + std::string(name) + "'");
      NACRE_ASSIGN_OR_RETURN(int64_t v, Integer("a number of tries"));
      builder_.SetChooseTotalTries(v, where);
    } else if (word == "type") {
      NACRE_ASSIGN_OR_RETURN(int64_t id, Integer("a type id"));
      NACRE_ASSIGN_OR_RETURN(std::string_view name, Word("a type name"));
      builder_.AddType(id, std::string(name), where);
    } else if (word == "device") {
      return Device(where);
    } else if (word == "rule") {
      return Rule(where);
    } else {
      // "<type> <name> { ... }" declares a bucket, as in Ceph's format.
      return BucketBody(word, where);
    }
    return Status::OK();
  }

  Status Device(const std::string& where) {
    NACRE_ASSIGN_OR_RETURN(int64_t id, Integer("a device id"));
    NACRE_ASSIGN_OR_RETURN(std::string_view name, Word("a device name"));
    std::string device_class;
    uint32_t weight = kWeightOne;
    bool has_class = false, has_weight = false;
    while (true) {
      if (Peek("class") && !has_class) {
        ++pos_;
        NACRE_ASSIGN_OR_RETURN(std::string_view c, Word("a device class"));
        device_class = std::string(c);
        has_class = true;
      } else if (Peek("weight") && !has_weight) {
        ++pos_;
        NACRE_ASSIGN_OR_RETURN(std::string_view w, Word("a weight"));
        Result<uint32_t> parsed = ParseWeight(w);
        if (!parsed.ok()) return parsed.status().Annotate(where);
        weight = *parsed;
        has_weight = true;
      } else {
        break;
      }
    }
    builder_.AddDevice(id, std::string(name), std::move(device_class), weight, where);
    return Status::OK();
  }

  Status BucketBody(std::string_view type, const std::string& where) {
    NACRE_ASSIGN_OR_RETURN(std::string_view name, Word("a bucket name after its type"));
    if (!Peek("{"))
      return Expected("'{' after bucket '" + std::string(name) + "' (or one of: tunable, type, device, rule)");
    ++pos_;
    std::optional<int64_t> id;
    std::vector<std::string> items;
    while (!Peek("}")) {
      NACRE_ASSIGN_OR_RETURN(std::string_view key, Word("id, alg, item or '}'"));
      if (key == "id") {
        if (id) return Error("bucket '" + std::string(name) + "' has two ids");
        NACRE_ASSIGN_OR_RETURN(int64_t v, Integer("a bucket id"));
        id = v;
      } else if (key == "alg") {
        NACRE_ASSIGN_OR_RETURN(std::string_view alg, Word("an algorithm"));
        if (alg != "straw2") return Error("unsupported bucket algorithm '" + std::string(alg) + "' (only straw2)");
      } else if (key == "item") {
        NACRE_ASSIGN_OR_RETURN(std::string_view item, Word("an item name"));
        if (Peek("weight"))
          return Error("item weights are set on devices ('device 0 osd.0 weight 1.0'); a bucket weighs the sum of its items");
        if (items.size() >= static_cast<size_t>(kMaxDevices) + kMaxBuckets) return Error("too many items");
        items.emplace_back(item);
      } else {
        --pos_;
        return Expected("id, alg, item or '}' in bucket '" + std::string(name) + "'");
      }
    }
    ++pos_;  // '}'
    builder_.AddBucket(id, std::string(name), std::string(type), std::move(items), where);
    return Status::OK();
  }

  Status Rule(const std::string& where) {
    NACRE_ASSIGN_OR_RETURN(std::string_view name, Word("a rule name"));
    NACRE_RETURN_IF_ERROR(Keyword("{"));
    std::optional<int64_t> id;
    RuleType type = RuleType::kReplicated;
    std::vector<CrushBuilder::StepSpec> steps;
    while (!Peek("}")) {
      NACRE_ASSIGN_OR_RETURN(std::string_view key, Word("id, type, step or '}'"));
      if (key == "id") {
        if (id) return Error("rule '" + std::string(name) + "' has two ids");
        NACRE_ASSIGN_OR_RETURN(int64_t v, Integer("a rule id"));
        id = v;
      } else if (key == "type") {
        NACRE_ASSIGN_OR_RETURN(std::string_view t, Word("replicated or erasure"));
        if (t == "replicated") {
          type = RuleType::kReplicated;
        } else if (t == "erasure") {
          type = RuleType::kErasure;
        } else {
          --pos_;
          return Expected("replicated or erasure");
        }
      } else if (key == "step") {
        if (steps.size() >= static_cast<size_t>(kMaxRuleSteps))
          return Error("rule '" + std::string(name) + "' has more than " + std::to_string(kMaxRuleSteps) + " steps");
        steps.emplace_back();
        NACRE_RETURN_IF_ERROR(RuleStep(&steps.back()));
      } else {
        --pos_;
        return Expected("id, type, step or '}' in rule '" + std::string(name) + "'");
      }
    }
    ++pos_;  // '}'
    builder_.AddRule(id, std::string(name), type, std::move(steps), where);
    return Status::OK();
  }

  Status RuleStep(CrushBuilder::StepSpec* s) {
    s->where = Where();
    NACRE_ASSIGN_OR_RETURN(std::string_view op, Word("a step"));
    if (op == "take") {
      s->op = StepOp::kTake;
      NACRE_ASSIGN_OR_RETURN(std::string_view item, Word("a bucket name"));
      s->name = std::string(item);
      if (Peek("class")) {
        ++pos_;
        NACRE_ASSIGN_OR_RETURN(std::string_view c, Word("a device class"));
        s->device_class = std::string(c);
      }
    } else if (op == "emit") {
      s->op = StepOp::kEmit;
    } else if (op == "set_choose_tries" || op == "set_chooseleaf_tries") {
      s->op = op == "set_choose_tries" ? StepOp::kSetChooseTries : StepOp::kSetChooseLeafTries;
      NACRE_ASSIGN_OR_RETURN(s->num, SmallInteger("a number of tries"));
    } else if (op == "choose" || op == "chooseleaf") {
      const bool leaf = op == "chooseleaf";
      NACRE_ASSIGN_OR_RETURN(std::string_view mode, Word("firstn or indep"));
      if (mode == "firstn") {
        s->op = leaf ? StepOp::kChooseLeafFirstn : StepOp::kChooseFirstn;
      } else if (mode == "indep") {
        s->op = leaf ? StepOp::kChooseLeafIndep : StepOp::kChooseIndep;
      } else {
        --pos_;
        return Expected("firstn or indep");
      }
      NACRE_ASSIGN_OR_RETURN(s->num, SmallInteger("a count"));
      NACRE_RETURN_IF_ERROR(Keyword("type"));
      NACRE_ASSIGN_OR_RETURN(std::string_view type, Word("a type name"));
      s->name = std::string(type);
    } else {
      --pos_;
      return Expected("take, choose, chooseleaf, emit, set_choose_tries or set_chooseleaf_tries");
    }
    return Status::OK();
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  CrushBuilder builder_;
};

}  // namespace

Result<CrushMap> ParseCrushText(std::string_view text) {
  if (text.size() > kMaxTextBytes)
    return TooBig("crush map text is " + std::to_string(text.size()) + " bytes (max " +
                  std::to_string(kMaxTextBytes) + ")");
  return TextParser(text).Parse();
}

}  // namespace nacre::crush
