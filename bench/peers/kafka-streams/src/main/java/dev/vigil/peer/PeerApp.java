package dev.vigil.peer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Vigil's topology as a Kafka Streams application (issue #8's peer):
 *
 * <pre>
 *  raw.* (6 topics) -> StageA (parse per platform, fold, phrase rules, links + brand lookalikes,
 *                              entities) -> flags.&lt;category&gt;
 *                              \-> one observation per (stateful rule, entity), keyed rule|entity
 *        -> repartition "obs" (event time as the record timestamp)
 *        -> first_seen rules: a persistent KeyValueStore (RocksDB) per key
 *        -> windowed rules: one windowed aggregate per window size (RocksDB window stores,
 *           tumbling windows with the pack's grace), flag at the threshold, update at each doubling
 *        -> flags.&lt;category&gt;
 * </pre>
 *
 * exactly_once_v2. Usage: PeerApp BOOTSTRAP APP_ID RULE_PACK STATE_DIR THREADS TOPIC_PREFIX FLAGS_PREFIX
 */
public final class PeerApp {
  static final ObjectMapper JSON = new ObjectMapper();
  static final JsonFactory FACTORY = JSON.getFactory();
  static final DateTimeFormatter FB_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxx");

  /** The canonical event of Vigil's adapters, reduced to what detection reads. */
  static final class Event {
    String id, platform, author, text = "", reporter;
    long time;
    final List<String> urls = new ArrayList<>(2);
    final List<String> phones = new ArrayList<>(1);
  }

  static long isoMs(String s) {
    if (s.endsWith("+0000")) return OffsetDateTime.parse(s, FB_TIME).toInstant().toEpochMilli();
    return OffsetDateTime.parse(s).toInstant().toEpochMilli();
  }

  /** Parses one raw record by the topic's adapter; null when it is not one of ours or malformed. */
  static Event parse(String adapter, String value, long recordTs) {
    try {
      JsonNode n = JSON.readTree(value);
      Event e = new Event();
      e.platform = adapter;
      e.time = recordTs;
      switch (adapter) {
        case "facebook":
          e.id = "facebook:" + n.path("id").asText();
          e.text = n.path("message").asText("");
          e.author = "facebook:" + n.path("from").path("id").asText();
          if (n.has("created_time")) e.time = isoMs(n.path("created_time").asText());
          for (JsonNode a : n.path("attachments").path("data")) if (a.has("url")) e.urls.add(a.path("url").asText());
          break;
        case "tiktok":
          e.id = "tiktok:" + n.path("id").asText();
          e.text = n.has("text") ? n.path("text").asText() : n.path("video_description").asText("");
          e.author = "tiktok:" + n.path("username").asText();
          if (n.has("create_time")) e.time = n.path("create_time").asLong() * 1000;
          break;
        case "telegram": {
          JsonNode m = n.has("message") ? n.path("message") : n.path("channel_post");
          if (m.isMissingNode()) return null;
          e.id = "telegram:" + m.path("chat").path("id").asText() + ":" + m.path("message_id").asText();
          e.text = m.has("text") ? m.path("text").asText() : m.path("caption").asText("");
          e.author = "telegram:" + m.path("from").path("id").asText();
          if (m.has("date")) e.time = m.path("date").asLong() * 1000;
          for (JsonNode en : m.path("entities")) if (en.has("url")) e.urls.add(en.path("url").asText());
          break;
        }
        case "zalo":
          e.id = "zalo:" + n.path("message").path("msg_id").asText();
          e.text = n.path("message").path("text").asText("");
          e.author = "zalo:" + n.path("sender").path("id").asText();
          if (n.has("timestamp")) e.time = Long.parseLong(n.path("timestamp").asText());
          break;
        case "report": {
          e.id = "report:" + n.path("report_id").asText();
          e.text = n.path("description").asText("");
          e.reporter = "report:" + n.path("reporter_id").asText();
          if (n.has("received_at")) e.time = isoMs(n.path("received_at").asText());
          JsonNode t = n.path("target");
          if ("url".equals(t.path("kind").asText())) e.urls.add(t.path("value").asText());
          if ("phone".equals(t.path("kind").asText())) e.phones.add(t.path("value").asText());
          break;
        }
        case "canonical":
          e.id = n.path("event_id").asText();
          e.text = n.path("text").asText("");
          e.author = n.path("author").asText(null);
          if (n.has("event_time")) e.time = n.path("event_time").asLong();
          for (JsonNode u : n.path("urls")) e.urls.add(u.asText());
          break;
        default:
          return null;
      }
      return e;
    } catch (Exception ex) {
      return null;  // Vigil dead-letters these; the corpus has none
    }
  }

  static String q(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String flagId(String... parts) {
    long h = 0xcbf29ce484222325L;
    for (String p : parts) {
      for (int i = 0; i < p.length(); i++) {
        h ^= p.charAt(i);
        h *= 0x100000001b3L;
      }
      h ^= 0x1f;
      h *= 0x100000001b3L;
    }
    return String.format("fl_%016x", h);
  }

  /** Stage A: record -> content flags (key F|primary) and observations (key O|rule|entity). */
  static final class StageA implements Processor<String, String, String, String> {
    final Detect.Pack pack;
    final Map<String, String> adapters;
    ProcessorContext<String, String> ctx;
    final boolean[] fired;

    StageA(Detect.Pack pack, Map<String, String> adapters) {
      this.pack = pack;
      this.adapters = adapters;
      this.fired = new boolean[pack.rules.size()];
    }

    @Override
    public void init(ProcessorContext<String, String> context) {
      ctx = context;
    }

    @Override
    public void process(Record<String, String> record) {
      RecordMetadata md = ctx.recordMetadata().orElseThrow();
      String adapter = adapters.get(md.topic());
      if (adapter == null || record.value() == null) return;
      Event e = parse(adapter, record.value(), record.timestamp());
      if (e == null) return;
      String folded = Detect.fold(e.text);
      Arrays.fill(fired, false);
      Detect.matchPhrases(pack, folded, fired);
      Map<String, int[]> score = new LinkedHashMap<>();
      Map<String, List<String>> why = new LinkedHashMap<>();
      for (int i = 0; i < fired.length; i++) {
        if (!fired[i]) continue;
        Detect.PhraseRule r = pack.rules.get(i);
        score.computeIfAbsent(r.category, k -> new int[1])[0] += r.weight;
        why.computeIfAbsent(r.category, k -> new ArrayList<>()).add(r.id);
      }
      // Links: brand lookalikes anchor the URL rules, as do fraud_link phrase rules.
      List<Detect.Link> links = new ArrayList<>(4);
      Detect.findLinks(e.text, links);
      for (String u : e.urls) {
        Detect.Link l = Detect.link(u);
        if (l != null) links.add(l);
      }
      boolean anchored = false;
      for (int i = 0; i < fired.length; i++) {
        if (fired[i] && pack.rules.get(i).category.equals("fraud_link") && pack.rules.get(i).weight > 0) anchored = true;
      }
      Map<String, Integer> linkHits = new LinkedHashMap<>();
      List<Detect.UrlRule> signals = new ArrayList<>();
      String lookalikeDomain = null;
      TreeSet<String> domains = new TreeSet<>(), lookalikes = new TreeSet<>();
      String[] brand = new String[1];
      for (Detect.Link l : links) {
        boolean off = Detect.official(pack, l);
        if (!l.ip) domains.add(l.domain);
        if (!l.ip && !off) {
          int w = Detect.lookalike(pack, l, brand);
          if (w > 0) {
            anchored = true;
            lookalikes.add(l.domain);
            if (lookalikeDomain == null) lookalikeDomain = l.domain;
            linkHits.merge("brand.lookalike", w, Math::max);
          }
        }
        Detect.urlSignals(pack, l, off, signals);
      }
      if (anchored) for (Detect.UrlRule r : signals) linkHits.putIfAbsent(r.id, r.weight);
      if (!linkHits.isEmpty()) {
        int[] s = score.computeIfAbsent("fraud_link", k -> new int[1]);
        for (int w : linkHits.values()) s[0] += w;
        why.computeIfAbsent("fraud_link", k -> new ArrayList<>()).addAll(linkHits.keySet());
      }
      // Entities of the event.
      Map<String, String> entities = new LinkedHashMap<>();
      for (String d : domains) entities.put("domain:" + d, "domain");
      Detect.findEntities(e.text, entities);
      for (String p : e.phones) Detect.findEntities(p, entities);
      if (e.author != null) entities.put("account:" + e.author, "account");
      // Content flags.
      List<String> flagged = new ArrayList<>(2);
      String primaryLink = lookalikeDomain != null ? lookalikeDomain : domains.isEmpty() ? null : domains.first();
      for (Map.Entry<String, int[]> c : score.entrySet()) {
        Integer threshold = pack.thresholds.get(c.getKey());
        int sc = Math.max(0, Math.min(100, c.getValue()[0]));
        if (threshold == null || sc < threshold) continue;
        flagged.add(c.getKey());
        String primary = c.getKey().equals("fraud_link") && primaryLink != null ? primaryLink
            : e.author != null ? e.author : e.id;
        StringBuilder v = new StringBuilder(256);
        v.append("{\"category\":\"").append(c.getKey()).append("\",\"flag_id\":\"")
            .append(flagId(c.getKey(), primary, e.id)).append("\",\"kind\":\"flag\",\"score\":").append(sc)
            .append(",\"rule_pack\":\"").append(pack.name).append("\",\"rules\":[");
        List<String> ids = why.get(c.getKey());
        for (int i = 0; i < ids.size(); i++) v.append(i > 0 ? "," : "").append('"').append(ids.get(i)).append('"');
        v.append("],\"primary\":").append(q(primary));
        appendSource(v, md, e);
        ctx.forward(record.withKey("F" + primary).withValue(v.toString()));
      }
      // One observation per (stateful rule, entity) the rule wants; event time as the timestamp.
      for (Detect.StatefulRule r : pack.stateful) {
        if (!r.whenFlagged.isEmpty() && flagged.stream().noneMatch(r.whenFlagged::contains)) continue;
        String distinct;
        if (r.measure.equals("distinct_reporters")) {
          if (e.reporter == null) continue;
          distinct = e.reporter;
        } else {
          distinct = e.author == null ? e.id : e.author;
        }
        for (Map.Entry<String, String> en : entities.entrySet()) {
          if (!r.entities.contains(en.getValue())) continue;
          if (r.whenLookalike && !lookalikes.contains(en.getKey().substring(7))) continue;
          String val = r.id + "\t" + distinct + "\t" + md.topic() + "\t" + md.partition() + "\t" + md.offset() + "\t" + e.id;
          ctx.forward(new Record<>("O" + r.id + "|" + en.getKey(), val, e.time));
        }
      }
    }
  }

  static void appendSource(StringBuilder v, RecordMetadata md, Event e) {
    v.append(",\"source\":{\"platform\":\"").append(e.platform).append("\",\"topic\":").append(q(md.topic()))
        .append(",\"partition\":").append(md.partition()).append(",\"offset\":").append(md.offset())
        .append(",\"event_id\":").append(q(e.id)).append(",\"event_time\":").append(e.time)
        .append("},\"detected_at\":").append(System.currentTimeMillis()).append('}');
  }

  /** Window aggregate: posts, distinct ids (exact), count last reported, what this update emitted. */
  static final class Agg {
    long posts, reported;
    int emit;  // 0 nothing, 1 flag, 2 update
    long[] ids = new long[0];
    String source = "";

    byte[] bytes() {
      byte[] s = source.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ByteBuffer b = ByteBuffer.allocate(8 + 8 + 4 + 4 + ids.length * 8 + 4 + s.length);
      b.putLong(posts).putLong(reported).putInt(emit).putInt(ids.length);
      for (long id : ids) b.putLong(id);
      b.putInt(s.length).put(s);
      return b.array();
    }

    static Agg of(byte[] a) {
      Agg g = new Agg();
      if (a == null) return g;
      ByteBuffer b = ByteBuffer.wrap(a);
      g.posts = b.getLong();
      g.reported = b.getLong();
      g.emit = b.getInt();
      g.ids = new long[b.getInt()];
      for (int i = 0; i < g.ids.length; i++) g.ids[i] = b.getLong();
      byte[] s = new byte[b.getInt()];
      b.get(s);
      g.source = new String(s, java.nio.charset.StandardCharsets.UTF_8);
      return g;
    }
  }

  static long hash64(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return h;
  }

  static byte[] aggregate(Map<String, Detect.StatefulRule> rules, String key, String value, byte[] current) {
    String[] f = value.split("\t", 2);
    Detect.StatefulRule r = rules.get(f[0]);
    Agg g = Agg.of(current);
    g.emit = 0;
    g.posts++;
    long id = hash64(f[1].substring(0, f[1].indexOf('\t')));
    int at = Arrays.binarySearch(g.ids, id);
    if (at < 0 && !r.measure.equals("posts")) {
      at = -at - 1;
      long[] n = new long[g.ids.length + 1];
      System.arraycopy(g.ids, 0, n, 0, at);
      n[at] = id;
      System.arraycopy(g.ids, at, n, at + 1, g.ids.length - at);
      g.ids = n;
    }
    long count = r.measure.equals("posts") ? g.posts : g.ids.length;
    if (g.reported == 0 && count >= r.threshold) {
      g.emit = 1;
      g.reported = count;
      g.source = f[1];
    } else if (g.reported > 0 && count >= 2 * g.reported) {
      g.emit = 2;
      g.reported = count;
      g.source = f[1];
    }
    return g.bytes();
  }

  static String statefulFlag(Detect.StatefulRule r, String entity, long start, long end, String kind, long count,
      String source) {
    String[] s = source.split("\t");  // distinct, topic, partition, offset, event id
    return "{\"category\":\"" + r.category + "\",\"flag_id\":\"" + flagId(r.id, entity, Long.toString(start))
        + "\",\"kind\":\"" + kind + "\",\"score\":" + r.score + ",\"rules\":[\"" + r.id + "\"],\"primary\":" + q(entity)
        + ",\"window\":{\"start\":" + start + ",\"end\":" + end + "},\"count\":" + count
        + ",\"source\":{\"topic\":" + q(s[1]) + ",\"partition\":" + s[2] + ",\"offset\":" + s[3] + ",\"event_id\":"
        + q(s[4]) + "},\"detected_at\":" + System.currentTimeMillis() + "}";
  }

  /** first_seen rules: fire once per entity when a matching observation comes within the window. */
  static final class FirstSeen implements Processor<String, String, String, String> {
    final Map<String, Detect.StatefulRule> rules;
    KeyValueStore<String, Long> store;
    ProcessorContext<String, String> ctx;

    FirstSeen(Map<String, Detect.StatefulRule> rules) {
      this.rules = rules;
    }

    @Override
    public void init(ProcessorContext<String, String> context) {
      ctx = context;
      store = context.getStateStore("first-seen");
    }

    @Override
    public void process(Record<String, String> rec) {
      Long first = store.get(rec.key());
      if (first != null && first < 0) return;  // already flagged (stored negated)
      long t = rec.timestamp();
      if (first == null) first = t;
      Detect.StatefulRule r = rules.get(rec.value().substring(0, rec.value().indexOf('\t')));
      if (t - first < r.windowMs) {
        store.put(rec.key(), -first - 1);
        String entity = rec.key().substring(rec.key().indexOf('|') + 1);
        String src = rec.value().substring(rec.value().indexOf('\t') + 1);
        ctx.forward(rec.withKey(entity).withValue(statefulFlag(r, entity, first, first + r.windowMs, "flag", 1, src)));
      } else {
        store.put(rec.key(), first);
      }
    }
  }

  static String category(String value) {
    int s = value.indexOf("\"category\":\"") + 12;
    return value.substring(s, value.indexOf('"', s));
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 7) {
      System.err.println("usage: PeerApp BOOTSTRAP APP_ID RULE_PACK STATE_DIR THREADS TOPIC_PREFIX FLAGS_PREFIX");
      System.exit(2);
    }
    String bootstrap = args[0], appId = args[1], packPath = args[2], stateDir = args[3];
    int threads = Integer.parseInt(args[4]);
    String topicPrefix = args[5], flagsPrefix = args[6];
    Detect.Pack pack = Detect.load(packPath);
    Detect.addTlds(pack);
    Map<String, String> adapters = new LinkedHashMap<>();
    String[][] inputs = {{"raw.facebook", "facebook"}, {"raw.tiktok", "tiktok"}, {"raw.telegram", "telegram"},
        {"raw.zalo", "zalo"}, {"raw.reports", "report"}, {"raw.canonical", "canonical"}};
    for (String[] in : inputs) adapters.put(topicPrefix + in[0], in[1]);
    Map<String, Detect.StatefulRule> rules = new LinkedHashMap<>();
    for (Detect.StatefulRule r : pack.stateful) rules.put(r.id, r);

    StreamsBuilder b = new StreamsBuilder();
    Serde<String> str = Serdes.String();
    KStream<String, String> out = b.stream(new ArrayList<>(adapters.keySet()), Consumed.with(str, str))
        .process(() -> new StageA(pack, adapters), Named.as("stage-a"));
    Map<String, KStream<String, String>> split = out.split(Named.as("a-"))
        .branch((k, v) -> k.charAt(0) == 'F', Branched.as("flags"))
        .defaultBranch(Branched.as("obs"));
    Produced<String, String> toFlags = Produced.with(str, str);
    split.get("a-flags").selectKey((k, v) -> k.substring(1)).to((k, v, c) -> flagsPrefix + category(v), toFlags);

    // Every sighting of an (rule, entity) on one partition: the one repartition of the topology.
    KStream<String, String> obs = split.get("a-obs").selectKey((k, v) -> k.substring(1))
        .repartition(Repartitioned.<String, String>as("obs").withKeySerde(str).withValueSerde(str));
    b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("first-seen"), str, Serdes.Long()));
    obs.filter((k, v) -> rules.get(v.substring(0, v.indexOf('\t'))).measure.equals("first_seen"))
        .process(() -> new FirstSeen(rules), Named.as("first-seen-rules"), "first-seen")
        .to((k, v, c) -> flagsPrefix + category(v), toFlags);
    // Windowed rules: one windowed aggregate per window size (RocksDB window stores).
    TreeSet<Long> windows = new TreeSet<>();
    for (Detect.StatefulRule r : pack.stateful) if (!r.measure.equals("first_seen")) windows.add(r.windowMs);
    for (long w : windows) {
      String name = "win-" + w / 60_000 + "m";
      obs.filter((k, v) -> {
            Detect.StatefulRule r = rules.get(v.substring(0, v.indexOf('\t')));
            return !r.measure.equals("first_seen") && r.windowMs == w;
          })
          .groupByKey(Grouped.with(name, str, str))
          .windowedBy(TimeWindows.ofSizeAndGrace(java.time.Duration.ofMillis(w), java.time.Duration.ofMillis(pack.graceMs)))
          .aggregate(() -> null, (k, v, agg) -> aggregate(rules, k, v, agg),
              Materialized.<String, byte[], WindowStore<Bytes, byte[]>>as(name).withKeySerde(str)
                  .withValueSerde(Serdes.ByteArray()).withCachingDisabled())
          .toStream()
          .flatMap((Windowed<String> wk, byte[] v) -> {
            Agg g = Agg.of(v);
            if (g == null || g.emit == 0) return List.<KeyValue<String, String>>of();
            String key = wk.key();
            Detect.StatefulRule r = rules.get(key.substring(0, key.indexOf('|')));
            String entity = key.substring(key.indexOf('|') + 1);
            return List.of(KeyValue.pair(entity, statefulFlag(r, entity, wk.window().start(), wk.window().end(),
                g.emit == 1 ? "flag" : "update", g.reported, g.source)));
          })
          .to((k, v, c) -> flagsPrefix + category(v), toFlags);
    }

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    for (String kv : System.getProperty("peer.props", "").split(",")) {
      if (kv.contains("=")) p.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    KafkaStreams streams = new KafkaStreams(b.build(), p);
    CountDownLatch done = new CountDownLatch(1);
    streams.setUncaughtExceptionHandler(ex -> {
      ex.printStackTrace();
      done.countDown();
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(java.time.Duration.ofSeconds(20));
      done.countDown();
    }));
    streams.setStateListener((n, o) -> System.out.println("peer: state " + o + " -> " + n));
    streams.start();
    done.await();
  }
}
