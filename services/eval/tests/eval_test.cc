#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/io/file/line_reader.h"
#include "common/topology/stage_a.h"
#include "services/eval/evaluate.h"
#include "services/eval/labelled.h"
#include "services/eval/report.h"

namespace vigil::eval {
namespace {

std::shared_ptr<const detect::RulePack> core_pack() {
  static auto pack = [] {
    auto r = detect::load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.value();
  }();
  return pack;
}

// A labelled line around a Telegram message with `text`.
std::string line(const std::string& labels, const std::string& text, const std::string& extra = "") {
  return R"({"labels":)" + labels + extra + R"(,"note":"n","record":{"topic":"raw.telegram","partition":0,)" +
         R"("offset":7,"tstype":"create","ts":1711930340000,"broker":-1,"key":null,"payload":"{\"update_id\":1,)" +
         R"(\"message\":{\"message_id\":7,\"from\":{\"id\":5012345612},\"chat\":{\"id\":-100},)" +
         R"(\"date\":1711930340,\"text\":\")" + text + R"(\"}}"}})";
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("vigil_eval_test_" + std::to_string(getpid()) + "_" + std::to_string(counter_++) + ".jsonl"))
                .string();
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(Taxonomy, CategoriesWithTheSubtypesTheirRulesName) {
  const Taxonomy t = Taxonomy::of(*core_pack());
  const auto* scam = t.find("scam");
  ASSERT_NE(scam, nullptr);
  for (const char* s : {"loan_shark", "fake_job", "impersonation", "deepfake", "investment"}) {
    EXPECT_NE(std::find(scam->subtypes.begin(), scam->subtypes.end(), s), scam->subtypes.end()) << s;
  }
  ASSERT_NE(t.find("personal_data"), nullptr);
  EXPECT_TRUE(t.find("personal_data")->subtypes.empty());
  const auto rows = t.rows();
  ASSERT_GE(rows.size(), 8u);
  EXPECT_EQ(rows[0].name(), "personal_data");
}

TEST(LabelledParser, ReadsLabelsNoteAndTheEnvelope) {
  LabelledParser p(Taxonomy::of(*core_pack()));
  LabelledRecord r;
  ASSERT_TRUE(p.parse(line(R"(["scam"])", "vay nhanh", R"(,"subtype":"loan_shark")"), r).is_ok());
  EXPECT_EQ(r.truth.categories, std::vector<std::string>{"scam"});
  EXPECT_EQ(r.truth.subtype, "loan_shark");
  EXPECT_EQ(r.note, "n");
  EXPECT_EQ(r.record.topic, "raw.telegram");
  EXPECT_EQ(r.record.offset, 7);
  ASSERT_TRUE(r.record.value.has_value());
  EXPECT_NE(r.record.value->find("vay nhanh"), std::string::npos);
  ASSERT_TRUE(p.parse(line("[]", "xin chao"), r).is_ok());
  EXPECT_TRUE(r.truth.categories.empty());
}

TEST(LabelledParser, RejectsWhatThePackCannotProduce) {
  LabelledParser p(Taxonomy::of(*core_pack()));
  LabelledRecord r;
  auto error = [&](const std::string& l) {
    const Status st = p.parse(l, r);
    EXPECT_FALSE(st.is_ok()) << l;
    return st.message();
  };
  EXPECT_NE(error(line(R"(["personal-data"])", "x")).find("unknown category 'personal-data'"), std::string::npos);
  EXPECT_NE(error(line(R"(["scam"])", "x")).find("'subtype' is missing"), std::string::npos);
  EXPECT_NE(error(line(R"(["scam"])", "x", R"(,"subtype":"loanshark")")).find("unknown subtype 'loanshark'"),
            std::string::npos);
  EXPECT_NE(error(line(R"(["fraud_link"])", "x", R"(,"subtype":"loan_shark")")).find("no labelled category"),
            std::string::npos);
  EXPECT_NE(error(line(R"(["fraud_link","fraud_link"])", "x")).find("twice"), std::string::npos);
  EXPECT_NE(error(R"({"lables":[],"record":{}})").find("unknown field 'lables'"), std::string::npos);
  EXPECT_NE(error(R"({"record":{"topic":"raw.zalo"}})").find("'labels' is missing"), std::string::npos);
  EXPECT_NE(error(R"({"labels":[]})").find("'record' is missing"), std::string::npos);
  EXPECT_NE(error(R"({"labels":[],"record":"x"})").find("kcat -J envelope"), std::string::npos);
  EXPECT_NE(error(R"({"labels":[],"record":{"payload":"{}"}})").find("topic is missing"), std::string::npos);
  EXPECT_NE(error("{\"labels\":[]").find("not JSON"), std::string::npos);
  EXPECT_NE(error(line("[]", "x") + " {}").find("text after"), std::string::npos);
}

TEST(Evaluator, ReadsBackWhatStageAFlags) {
  Evaluator e(core_pack());
  LabelledParser p(Taxonomy::of(*core_pack()));
  LabelledRecord r;
  ASSERT_TRUE(p.parse(line(R"(["personal_data"])", "Bán data khách hàng, ib Zalo 0912000318"), r).is_ok());
  Outcome o;
  ASSERT_TRUE(e.evaluate(r.record, o).is_ok());
  ASSERT_EQ(o.flags.size(), 1u);
  EXPECT_EQ(o.flags[0].category, "personal_data");
  EXPECT_GE(o.flags[0].score, 50);
  ASSERT_FALSE(o.flags[0].rules.empty());
  EXPECT_EQ(o.flags[0].rules[0].id, "text.pd.trade_offer");
  EXPECT_EQ(o.event.text, "Bán data khách hàng, ib Zalo 0912000318");

  ASSERT_TRUE(p.parse(line(R"([])", "Tối nay đi ăn lẩu không?"), r).is_ok());
  ASSERT_TRUE(e.evaluate(r.record, o).is_ok());
  EXPECT_TRUE(o.flags.empty());
}

TEST(Evaluator, PredictsTheSameCategoriesAsTheDetectorsStageA) {
  // The corpus through the evaluator and through a StageA of its own: same categories, same
  // subtypes, record by record.
  auto pack = core_pack();
  Evaluator e(pack);
  DetectorConfig content = default_detector_config();
  content.state.enabled = false;  // the evaluator judges content flags only
  topology::StageA stage(content, pack);
  LabelledParser p(Taxonomy::of(*pack));
  std::size_t records = 0;
  for (const char* name : {"tune.jsonl", "held_out.jsonl"}) {
    auto reader = io::open_line_reader(std::string(VIGIL_SOURCE_DIR) + "/tests/data/labelled/" + name);
    ASSERT_TRUE(reader.is_ok());
    std::string text;
    while (reader.value()->next(text)) {
      LabelledRecord r;
      ASSERT_TRUE(p.parse(text, r).is_ok()) << name;
      Outcome o;
      ASSERT_TRUE(e.evaluate(r.record, o).is_ok()) << name;
      std::vector<io::Record> out;
      topology::Stats stats;
      ASSERT_TRUE(stage.process(r.record, out, stats).is_ok());
      ASSERT_EQ(out.size(), o.flags.size()) << text;
      for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].topic, "flags." + o.flags[i].category);
      ++records;
    }
  }
  EXPECT_GE(records, 320u);
}

TEST(EvaluateFile, BadLinesAreReportedWithFileAndLine) {
  LabelledParser p(Taxonomy::of(*core_pack()));
  Evaluator e(core_pack());
  {
    TempFile f(line("[]", "xin chao") + "\n\n" + line(R"(["spam"])", "x") + "\n");
    auto r = evaluate_file(f.path(), p, e);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().message().rfind(f.path() + ":3: unknown category 'spam'", 0), 0u) << r.status().message();
  }
  {
    // A payload the adapter rejects: stage A would dead-letter it.
    std::string broken = line("[]", "x");
    broken.replace(broken.find(R"(\"message_id\":7,)"), std::string(R"(\"message_id\":7,)").size(), "");
    TempFile f(broken + "\n");
    auto r = evaluate_file(f.path(), p, e);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find(":1: stage A dead-letters the record: missing_field"), std::string::npos)
        << r.status().message();
  }
  {
    auto r = evaluate_file("/nonexistent/labelled.jsonl", p, e);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("/nonexistent/labelled.jsonl"), std::string::npos);
  }
}

TEST(EvaluateFile, ScoresAndListsErrors) {
  LabelledParser p(Taxonomy::of(*core_pack()));
  Evaluator e(core_pack());
  TempFile f(line(R"(["personal_data"])", "Bán data khách hàng, ib") + "\n" +  // TP
             line(R"(["personal_data"])", "xin chao") + "\n" +                 // FN
             line("[]", "Bán data khách hàng, ib") + "\n");                    // FP
  auto r = evaluate_file(f.path(), p, e);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const Counts* pd = r.value().board.find({"personal_data", ""});
  ASSERT_NE(pd, nullptr);
  EXPECT_EQ(*pd, (Counts{1, 1, 1}));
  const std::string errors = format_errors(r.value());
  EXPECT_NE(errors.find("FN personal_data  " + f.path() + ":2  (n)\n    flags: none\n    text: xin chao\n"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("FP personal_data  " + f.path() + ":3"), std::string::npos) << errors;
  EXPECT_NE(errors.find("[text.pd.trade_offer +"), std::string::npos) << errors;
  const std::string table = format_table(r.value().board, "t");
  EXPECT_NE(table.find("t: 3 records, 1 negatives"), std::string::npos) << table;
  EXPECT_NE(table.find("personal_data"), std::string::npos);
}

}  // namespace
}  // namespace vigil::eval
