#include "services/tail/options.h"

#include <CLI/CLI.hpp>
#include <charconv>

namespace vigil::tail {
namespace {

constexpr const char* kDescription =
    "vigil-tail: follow Vigil's flag topics (or read flag files) and show the flags that match.\n"
    "\n"
    "On a terminal it prints a table (event time, severity, category, main entity, reason, source);\n"
    "piped, or with --json, one flag JSON per line exactly as the detector wrote it.\n"
    "Without --group it joins no consumer group: it reads every partition of every flags.* topic\n"
    "from the moment it starts (or --from-beginning, or --since TIME) and commits nothing.\n"
    "\n"
    "Examples:\n"
    "  vigil-tail -b kafka:9092                                  # new flags as they come\n"
    "  vigil-tail -c detector.yaml --min-severity high           # brokers and prefix from the config\n"
    "  vigil-tail -b kafka:9092 --since 2h --category fraud_link --entity domain:vietcombamk.com.vn\n"
    "  vigil-tail -b kafka:9092 --from-beginning --rule text.pd.trade_offer --count 20 --json > pd.jsonl\n"
    "  vigil-tail -b kafka:9092 --group analysts-team-a          # share progress with colleagues\n"
    "  vigil-tail --file out/flags.jsonl --min-severity critical   # flags of an offline run\n"
    "  vigil-tail -b kafka:9093 -X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512 \\\n"
    "             -X sasl.username=analyst -X 'sasl.password=${file:/run/secrets/kafka}'\n"
    "\n"
    "Filters combine with AND; a repeated option (--category, --entity, --rule) matches any of its values.\n"
    "Exit codes: 0 done (also after --count flags, at the end of --file, or on SIGINT/SIGTERM),\n"
    "1 runtime failure (broker, file), 2 bad arguments or config (the message says what to fix).";

ParsedArgs usage(std::string message) {
  ParsedArgs p;
  p.exit_code = cli::kExitUsage;
  p.message = std::move(message);
  return p;
}

}  // namespace

ParsedArgs parse_args(int argc, const char* const* argv, TimestampMs now) {
  ParsedArgs parsed;
  Args& a = parsed.args;
  CLI::App app{kDescription, "vigil-tail"};
  cli::add_kafka_flags(app, a.kafka);
  std::string since, count, min_severity, subtype;
  std::vector<std::string> entities;
  app.add_option("--topic,-t", a.topics,
                 "Flag topic to follow, repeatable (default: every topic whose name starts with the config's "
                 "flags_topic_prefix, 'flags.')");
  app.add_option("--file,-f", a.files,
                 "Read flags from this file instead of Kafka, repeatable: vigil-detector --output files (envelope "
                 "lines) or plain flag JSON Lines; plain, .gz or .zst");
  app.add_option("--group,-G", a.group,
                 "Consume in this consumer group and commit after printing; a new group starts at the end unless "
                 "--from-beginning or --since");
  app.add_flag("--from-beginning", a.from_beginning, "Start at the beginning of every partition");
  app.add_option("--since", since,
                 "Only flags detected at or after TIME (ISO 8601, epoch ms, 15m, 2h, 7d, now-1d); Kafka reads "
                 "start there");
  app.add_option("--category", a.filter.categories, "Only this category (personal_data, fraud_link), repeatable");
  app.add_option("--subtype", subtype, "Only flags with this subtype (flags without one never match)");
  app.add_option("--min-severity", min_severity, "Only flags at least this severe: low, medium, high, critical");
  app.add_option("--entity", entities,
                 "Only flags with an entity [TYPE:]VALUE, matched against its canonical or masked form "
                 "(e.g. domain:vietcombamk.com.vn, phone:09******78), repeatable");
  app.add_option("--rule", a.filter.rules, "Only flags where this rule fired (rules[].id), repeatable");
  app.add_option("--count,-n", count, "Exit after printing N flags");
  app.add_flag("--json", a.json, "JSON Lines (the default when stdout is not a terminal)");
  app.add_flag("--table", a.table, "The table, also when stdout is not a terminal");
  app.add_flag("--no-color", a.no_color, "No colours in the table (also when $NO_COLOR is set)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    parsed.exit_code = cli::kExitOk;
    parsed.message = app.help();
    return parsed;
  } catch (const CLI::ParseError& e) {
    return usage(e.what());
  }

  if (a.json && a.table) return usage("--json and --table exclude each other: pick one");
  if (!a.files.empty() && (!a.topics.empty() || !a.group.empty() || a.from_beginning)) {
    return usage("--file reads files from start to end: --topic, --group and --from-beginning are for Kafka");
  }
  if (a.from_beginning && !since.empty()) return usage("--from-beginning and --since exclude each other: pick one");
  if (!since.empty()) {
    a.filter.since = cli::parse_time(since, now);
    if (!a.filter.since) {
      return usage("--since " + since +
                   ": not a time; use ISO 8601 (2024-04-01T00:00:00Z), epoch milliseconds, a duration back from now "
                   "(15m, 2h, 7d) or now-1d");
    }
  }
  if (!count.empty()) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
    if (ec != std::errc() || end != count.data() + count.size() || n == 0) {
      return usage("--count " + count + ": expected a whole number of flags, at least 1");
    }
    a.count = n;
  }
  if (!min_severity.empty()) {
    a.filter.min_severity = parse_severity(min_severity);
    if (!a.filter.min_severity) {
      return usage("--min-severity " + min_severity + ": unknown severity; use low, medium, high or critical");
    }
  }
  if (!subtype.empty()) a.filter.subtype = subtype;
  for (const auto& e : entities) {
    auto f = parse_entity_filter(e);
    if (!f.is_ok()) return usage(f.status().message());
    a.filter.entities.push_back(std::move(f.value()));
  }
  for (const auto& c : a.filter.categories) {
    if (c.empty()) return usage("--category needs a name, e.g. --category fraud_link");
  }
  return parsed;
}

}  // namespace vigil::tail
