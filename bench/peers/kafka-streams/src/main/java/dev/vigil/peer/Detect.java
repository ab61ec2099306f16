package dev.vigil.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.io.IOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stage A's detection, ported from Vigil (common/text, common/extract, common/detect) as far as
 * the benchmark corpus needs it. The rule pack is read from rules/vn-core.yaml: every phrase rule,
 * category threshold, URL rule (hosts, TLDs, IP hosts, path words), brand, alias and lookalike
 * weight. What is simplified (documented in docs/performance.md): no confusable skeletons (UTS #39),
 * no brand-in-path rule, no known-bad feeds, a fixed list of two-level public suffixes instead of
 * libpsl, phones/handles/bank accounts/e-mails by regular expressions.
 */
final class Detect {
  // ------------------------------------------------------------------ folding (common/text)
  private static final String[] CHAR_FOLD = new String[0x2000];

  static {
    for (int c = 0; c < CHAR_FOLD.length; c++) {
      String s = new String(Character.toChars(c)).toLowerCase();
      String d = Normalizer.normalize(s, Normalizer.Form.NFD);
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < d.length(); i++) {
        char ch = d.charAt(i);
        if (Character.getType(ch) == Character.NON_SPACING_MARK) continue;
        b.append(ch == 'đ' ? 'd' : ch);
      }
      CHAR_FOLD[c] = b.toString();
    }
  }

  private static boolean dropped(int cp) {
    if (cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0xFEFF || cp == 0x2060 || cp == 0xFE0F) return true;
    if (cp >= 0x1F000) return true;  // emoji and pictographs
    int t = Character.getType(cp);
    return t == Character.OTHER_SYMBOL || t == Character.SURROGATE;
  }

  static String foldCharacters(String in) {
    StringBuilder out = new StringBuilder(in.length());
    boolean space = false;
    for (int i = 0; i < in.length(); ) {
      int cp = in.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isWhitespace(cp)) {
        space = true;
        continue;
      }
      if (dropped(cp)) continue;
      if (space && out.length() > 0) out.append(' ');
      space = false;
      if (cp < 0x80) {
        out.append(cp >= 'A' && cp <= 'Z' ? (char) (cp + 32) : (char) cp);
      } else if (cp < CHAR_FOLD.length) {
        out.append(CHAR_FOLD[cp]);
      } else {
        out.appendCodePoint(Character.toLowerCase(cp));
      }
    }
    return out.toString();
  }

  static boolean tokenChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '$' || c >= 0x80;
  }

  static boolean wordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c >= 0x80;
  }

  /** "d.a.t.a", "d a t a": single letters joined by one repeated separator become one word. */
  static String joinSpelledOut(String t) {
    StringBuilder out = null;
    int i = 0, copied = 0;
    while (i < t.length()) {
      char c = t.charAt(i);
      boolean single = tokenChar(c) && (i == 0 || !tokenChar(t.charAt(i - 1))) && i + 1 < t.length()
          && !tokenChar(t.charAt(i + 1)) && ".-_* ".indexOf(t.charAt(i + 1)) >= 0;
      if (single) {
        char sep = t.charAt(i + 1);
        int j = i, letters = 0;
        while (singleAt(t, j)) {
          letters++;
          if (j + 2 < t.length() && t.charAt(j + 1) == sep && singleAt(t, j + 2)) j += 2;
          else break;
        }
        if (letters >= (sep == ' ' ? 4 : 3)) {
          if (out == null) out = new StringBuilder(t.length());
          out.append(t, copied, i);
          for (int k = i; k <= j; k += 2) out.append(t.charAt(k));
          i = copied = j + 1;
          continue;
        }
      }
      i++;
    }
    if (out == null) return t;
    out.append(t, copied, t.length());
    return out.toString();
  }

  private static boolean singleAt(String t, int k) {
    return k < t.length() && tokenChar(t.charAt(k)) && t.charAt(k) < 0x80 && (k + 1 == t.length() || !tokenChar(t.charAt(k + 1)));
  }

  private static final Map<String, String> SPELLINGS = new HashMap<>();

  static {
    String[] s = {"ko", "khong", "hok", "khong", "kh", "khong", "hong", "khong", "dc", "duoc", "j", "gi", "sdt",
        "so dien thoai", "stk", "so tai khoan", "tk", "tai khoan", "ck", "chuyen khoan", "zl", "zalo", "fb", "facebook",
        "tele", "telegram", "mk", "minh", "vs", "voi", "ng", "nguoi", "ae", "anh em", "nt", "nhan tin", "dt", "dien thoai",
        "sp", "san pham", "sl", "so luong", "inb", "inbox", "nhiu", "nhieu", "dk", "dang ky", "dky", "dang ky", "r", "roi"};
    for (int i = 0; i < s.length; i += 2) SPELLINGS.put(s[i], s[i + 1]);
  }

  private static char leet(char c) {
    switch (c) {
      case '0': return 'o';
      case '1': return 'i';
      case '3': return 'e';
      case '4': return 'a';
      case '@': return 'a';
      case '$': return 's';
      default: return c;
    }
  }

  /** Per word: leetspeak in mostly-letter words, runs of 3+ equal letters, chat spellings. */
  static String foldWords(String t) {
    StringBuilder out = new StringBuilder(t.length() + 16);
    int i = 0;
    while (i < t.length()) {
      if (!tokenChar(t.charAt(i))) {
        out.append(t.charAt(i++));
        continue;
      }
      int j = i;
      while (j < t.length() && tokenChar(t.charAt(j))) j++;
      int letters = 0, others = 0;
      for (int k = i; k < j; k++) {
        char c = t.charAt(k);
        if (c >= 'a' && c <= 'z') letters++;
        else others++;
      }
      char first = t.charAt(i);
      boolean isLeet = letters >= others && (letters >= 2 || (first >= 'a' && first <= 'z')) && first != '@';
      boolean plain = true;
      for (int k = i; plain && k < j; k++) {
        char c = t.charAt(k);
        if (isLeet && leet(c) != c) plain = false;
        if (k >= i + 2 && c == t.charAt(k - 1) && c == t.charAt(k - 2)) plain = false;
      }
      if (plain && j - i <= 4 && SPELLINGS.containsKey(t.substring(i, j))) plain = false;
      if (plain) {
        out.append(t, i, j);
        i = j;
        continue;
      }
      StringBuilder word = new StringBuilder(j - i);
      for (int k = i; k < j; ) {
        char c = isLeet ? leet(t.charAt(k)) : t.charAt(k);
        int run = k + 1;
        while (c >= 'a' && c <= 'z' && run < j && (isLeet ? leet(t.charAt(run)) : t.charAt(run)) == c) run++;
        int keep = run - k >= 3 && k > i ? 1 : run - k;
        for (int n = 0; n < keep; n++) word.append(c);
        k = run;
      }
      String w = word.toString();
      String rep = w.length() <= 4 ? SPELLINGS.get(w) : null;
      out.append(rep != null ? rep : w);
      i = j;
    }
    return out.toString();
  }

  static String fold(String text) {
    return foldWords(joinSpelledOut(foldCharacters(text)));
  }

  // ------------------------------------------------------------------ the rule pack
  static final class PhraseRule {
    String id, category, subtype;
    int weight;
    // vn-core 2026.12 conditions (docs/rule-packs.md): regexes on the folded text, partner
    // rules it needs, and counter-signals for defanged links only. Negation is not ported.
    List<java.util.regex.Pattern> patterns = new ArrayList<>();
    List<String> with = new ArrayList<>();
    List<Integer> withIdx = new ArrayList<>();
    boolean defangedOnly;
  }

  static final class Brand {
    String id;
    List<String> domains = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    List<String> aliases = new ArrayList<>();
    boolean global;
  }

  static final class UrlRule {
    String id;
    int weight;
    List<String[]> hosts = new ArrayList<>();  // {host, path}
    Set<String> tlds = new HashSet<>();
    boolean ipHost;
    List<String> pathWords = new ArrayList<>();
  }

  static final class StatefulRule {
    String id, category, measure;
    Set<String> entities = new HashSet<>();
    Set<String> whenFlagged = new HashSet<>();
    boolean whenLookalike;
    int threshold, score;
    long windowMs;
  }

  static final class Pack {
    String name;
    final List<PhraseRule> rules = new ArrayList<>();
    final Map<String, Integer> thresholds = new LinkedHashMap<>();
    // first word of a folded phrase -> (phrase, rule index)
    final Map<String, List<Object[]>> byFirstWord = new HashMap<>();
    final List<Brand> brands = new ArrayList<>();
    final Set<String> official = new HashSet<>();
    final List<UrlRule> urlRules = new ArrayList<>();
    final List<StatefulRule> stateful = new ArrayList<>();
    int edit, sameLabel, compound, alias;
    long graceMs;
  }

  static long duration(String s) {
    long n = Long.parseLong(s.substring(0, s.length() - 1));
    switch (s.charAt(s.length() - 1)) {
      case 's': return n * 1000;
      case 'm': return n * 60_000;
      case 'h': return n * 3_600_000;
      case 'd': return n * 86_400_000;
      default: throw new IllegalArgumentException("duration " + s);
    }
  }

  static Pack load(String path) throws IOException {
    JsonNode y = new ObjectMapper(new YAMLFactory()).readTree(new File(path));
    Pack p = new Pack();
    p.name = y.path("rule_pack").asText() + "@" + y.path("version").asText();
    y.path("categories").fields().forEachRemaining(e -> p.thresholds.put(e.getKey(), e.getValue().path("threshold").asInt()));
    for (JsonNode r : y.path("phrase_rules")) {
      PhraseRule rule = new PhraseRule();
      rule.id = r.path("id").asText();
      rule.category = r.path("category").asText();
      rule.subtype = r.path("subtype").asText("");
      rule.weight = r.path("weight").asInt();
      int idx = p.rules.size();
      p.rules.add(rule);
      for (JsonNode ph : r.path("phrases")) {
        String f = fold(ph.asText()).trim();
        int sp = f.indexOf(' ');
        String first = sp < 0 ? f : f.substring(0, sp);
        p.byFirstWord.computeIfAbsent(first, k -> new ArrayList<>()).add(new Object[] {f, idx});
      }
      for (JsonNode pt : r.path("patterns")) rule.patterns.add(java.util.regex.Pattern.compile(pt.asText()));
      for (JsonNode w : r.path("with")) rule.with.add(w.asText());
      rule.defangedOnly = "defanged".equals(r.path("when_links").asText(""));
    }
    for (PhraseRule rule : p.rules) {
      for (String w : rule.with) {
        for (int k = 0; k < p.rules.size(); k++) {
          if (p.rules.get(k).id.equals(w)) rule.withIdx.add(k);
        }
      }
    }
    JsonNode l = y.path("lookalike");
    p.edit = l.path("edit").asInt();
    p.sameLabel = l.path("same_label").asInt();
    p.compound = l.path("compound").asInt();
    p.alias = l.path("alias").asInt();
    for (JsonNode u : y.path("url_rules")) {
      UrlRule r = new UrlRule();
      r.id = u.path("id").asText();
      r.weight = u.path("weight").asInt();
      for (JsonNode h : u.path("hosts")) {
        String s = h.asText();
        int slash = s.indexOf('/');
        r.hosts.add(slash < 0 ? new String[] {s, ""} : new String[] {s.substring(0, slash), s.substring(slash)});
      }
      for (JsonNode t : u.path("tlds")) r.tlds.add(t.asText());
      r.ipHost = u.path("ip_host").asBoolean(false);
      for (JsonNode w : u.path("path_words")) r.pathWords.add(w.asText());
      if (u.path("brand_in_path").asBoolean(false)) continue;  // not ported
      p.urlRules.add(r);
    }
    for (JsonNode b : y.path("brands")) {
      Brand br = new Brand();
      br.id = b.path("id").asText();
      for (JsonNode d : b.path("domains")) {
        br.domains.add(d.asText());
        br.labels.add(d.asText().substring(0, d.asText().indexOf('.')));
        p.official.add(d.asText());
      }
      for (JsonNode a : b.path("aliases")) br.aliases.add(a.asText());
      br.global = b.path("global").asBoolean(false);
      p.brands.add(br);
    }
    for (JsonNode n : y.path("not_lookalikes")) p.official.add(n.asText());
    p.graceMs = duration(y.path("state").path("grace").asText("1h"));
    for (JsonNode s : y.path("stateful_rules")) {
      StatefulRule r = new StatefulRule();
      r.id = s.path("id").asText();
      r.category = s.path("category").asText();
      r.measure = s.path("measure").asText();
      for (JsonNode e : s.path("entities")) r.entities.add(e.asText());
      JsonNode f = s.path("when").path("flagged");
      if (f.isArray()) for (JsonNode c : f) r.whenFlagged.add(c.asText());
      else if (f.isTextual()) r.whenFlagged.add(f.asText());
      r.whenLookalike = s.path("when").path("lookalike").asBoolean(false);
      r.threshold = s.path("threshold").asInt(1);
      r.score = s.path("score").asInt();
      r.windowMs = duration(s.path("window").asText());
      p.stateful.add(r);
    }
    return p;
  }

  // ------------------------------------------------------------------ phrase rules
  /** Marks fired[rule] for every rule with a phrase occurring as whole words of the folded text. */
  static void matchPhrases(Pack p, String t, boolean[] fired) {
    int n = t.length();
    for (int i = 0; i < n; ) {
      if (!wordChar(t.charAt(i))) {
        i++;
        continue;
      }
      int j = i;
      while (j < n && wordChar(t.charAt(j))) j++;
      List<Object[]> cands = p.byFirstWord.get(t.substring(i, j));
      if (cands != null) {
        for (Object[] c : cands) {
          String phrase = (String) c[0];
          int end = i + phrase.length();
          if (end <= n && t.startsWith(phrase, i) && (end == n || !wordChar(t.charAt(end)))) fired[(Integer) c[1]] = true;
        }
      }
      i = j;
    }
    // Regex patterns: a match that starts and ends on word boundaries, as Vigil checks them.
    for (int r = 0; r < p.rules.size(); r++) {
      PhraseRule rule = p.rules.get(r);
      for (int k = 0; !fired[r] && k < rule.patterns.size(); k++) {
        java.util.regex.Matcher m = rule.patterns.get(k).matcher(t);
        while (m.find()) {
          boolean left = m.start() == 0 || !wordChar(t.charAt(m.start() - 1));
          boolean right = m.end() == n || !wordChar(t.charAt(m.end()));
          if (left && right) {
            fired[r] = true;
            break;
          }
        }
      }
    }
    // Counter-signals for defanged links: the corpus spreads its links plainly, so they never apply.
    for (int r = 0; r < p.rules.size(); r++) {
      if (p.rules.get(r).defangedOnly) fired[r] = false;
    }
    // A rule with partners counts only next to one of them.
    boolean[] before = fired.clone();
    for (int r = 0; r < p.rules.size(); r++) {
      PhraseRule rule = p.rules.get(r);
      if (!fired[r] || rule.withIdx.isEmpty()) continue;
      boolean any = false;
      for (int w : rule.withIdx) any |= before[w];
      fired[r] = any;
    }
  }

  // ------------------------------------------------------------------ links
  static final Set<String> TWO_LEVEL = Set.of("com.vn", "net.vn", "org.vn", "gov.vn", "edu.vn", "ac.vn", "info.vn",
      "biz.vn", "name.vn", "pro.vn", "health.vn", "int.vn", "co.th", "com.sg", "co.uk", "com.au", "co.jp");
  static final Set<String> TLDS = new HashSet<>(List.of("vn", "com", "net", "org", "info", "me", "io", "app", "dev",
      "ly", "gl", "gd", "at", "id", "li", "cc", "co", "ru", "de", "uk", "sg", "th", "jp", "au", "us", "tv", "so", "gg",
      "to", "biz", "asia", "site", "edu", "gov", "page", "website", "ai"));

  static void addTlds(Pack p) {
    for (UrlRule r : p.urlRules) TLDS.addAll(r.tlds);
  }

  static final Pattern URL_TOKEN = Pattern.compile("[^\\s<>\"'()\\[\\]{}]+");

  static String deobfuscate(String text) {
    if (text.indexOf('[') < 0 && text.indexOf('(') < 0 && text.indexOf("hxxp") < 0) return text;
    return text.replace("[.]", ".").replace("(.)", ".").replace("[dot]", ".").replace("hxxp", "http");
  }

  static final class Link {
    String url, host, domain, path, label;
    boolean ip, official;
  }

  static Link link(String token) {
    String s = token;
    String lower = s.toLowerCase();
    int start = 0;
    if (lower.startsWith("https://")) start = 8;
    else if (lower.startsWith("http://")) start = 7;
    int slash = s.indexOf('/', start);
    String host = (slash < 0 ? s.substring(start) : s.substring(start, slash)).toLowerCase();
    String path = slash < 0 ? "" : s.substring(slash);
    if (host.startsWith("www.")) host = host.substring(4);
    int colon = host.indexOf(':');
    if (colon >= 0) host = host.substring(0, colon);
    if (host.indexOf('@') >= 0 || host.isEmpty()) return null;
    Link l = new Link();
    l.host = host;
    l.path = path;
    l.url = host + (path.isEmpty() ? "/" : path);
    l.ip = host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    if (l.ip) {
      l.domain = "";
      return start > 0 ? l : null;
    }
    String[] labels = host.split("\\.");
    if (labels.length < 2) return null;
    String tld = labels[labels.length - 1];
    if (!TLDS.contains(tld)) return null;
    for (String x : labels) if (x.isEmpty()) return null;
    String last2 = labels[labels.length - 2] + "." + tld;
    l.domain = TWO_LEVEL.contains(last2) && labels.length >= 3 ? labels[labels.length - 3] + "." + last2
        : TWO_LEVEL.contains(last2) ? "" : last2;
    if (l.domain.isEmpty()) return null;
    String folded = foldCharacters(l.domain);
    l.label = folded.substring(0, folded.indexOf('.'));
    return l;
  }

  static void findLinks(String text, List<Link> out) {
    Matcher m = URL_TOKEN.matcher(deobfuscate(text));
    while (m.find()) {
      String tok = m.group();
      if (tok.indexOf('.') < 0) continue;
      int end = tok.length();
      while (end > 0 && ".,;:!?".indexOf(tok.charAt(end - 1)) >= 0) end--;
      if (end < tok.length()) tok = tok.substring(0, end);
      if (tok.indexOf('@') >= 0 && !tok.toLowerCase().startsWith("http")) continue;  // e-mail or handle
      Link l = link(tok);
      if (l != null) out.add(l);
    }
  }

  static boolean official(Pack p, Link l) {
    if (p.official.contains(l.domain)) return true;
    for (String d : p.official) if (l.host.equals(d) || l.host.endsWith("." + d)) return true;
    return false;
  }

  static List<String> hostTokens(String label) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 1; i <= label.length(); i++) {
      boolean boundary = i == label.length() || label.charAt(i) == '-' || label.charAt(i - 1) == '-'
          || Character.isDigit(label.charAt(i)) != Character.isDigit(label.charAt(i - 1));
      if (boundary) {
        if (label.charAt(start) != '-') out.add(label.substring(start, i));
        start = i;
      }
    }
    return out;
  }

  static int osa(String a, String b, int limit) {
    int n = a.length(), m = b.length();
    if (Math.abs(n - m) > limit) return limit + 1;
    int[] p2 = new int[m + 1], p = new int[m + 1], c = new int[m + 1];
    for (int j = 0; j <= m; j++) p[j] = j;
    for (int i = 1; i <= n; i++) {
      c[0] = i;
      int rowMin = c[0];
      for (int j = 1; j <= m; j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        c[j] = Math.min(Math.min(p[j] + 1, c[j - 1] + 1), p[j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1))
          c[j] = Math.min(c[j], p2[j - 2] + 1);
        rowMin = Math.min(rowMin, c[j]);
      }
      if (rowMin > limit + 1) return limit + 1;
      int[] t = p2;
      p2 = p;
      p = c;
      c = t;
    }
    return p[m];
  }

  static boolean containsName(String s, String name) {
    if (name.length() >= 6) return s.contains(name);
    for (String part : s.split("\\.")) {
      if (part.isEmpty()) continue;
      for (String tok : hostTokens(part)) if (tok.startsWith(name)) return true;
    }
    return false;
  }

  /** Weight of the best brand lookalike of the link, 0 when none (detector.cc match_brand). */
  static int lookalike(Pack p, Link l, String[] brandOut) {
    String label = l.label;
    String sub = l.host.length() > l.domain.length() ? l.host.substring(0, l.host.length() - l.domain.length() - 1) : "";
    List<String> tokens = hostTokens(label);
    int best = 0;
    for (Brand b : p.brands) {
      List<String> names = new ArrayList<>(b.labels);
      for (String a : b.aliases) if (a.length() >= 5) names.add(a);
      for (String name : names) {
        int w = 0;
        if (label.equals(name)) {
          if (name.length() >= 4 && !b.global) w = p.sameLabel;
        } else {
          boolean edited = false;
          if (name.length() >= 5) {
            int max = name.length() >= 8 ? 2 : 1;
            int d = osa(label, name, max);
            if (d <= max) {
              w = p.edit - (d - 1) * 5;
              edited = true;
            }
          }
          if (!edited && name.length() >= 4 && (containsName(label, name) || containsName(sub, name))) w = p.compound;
        }
        if (w > best) {
          best = w;
          brandOut[0] = b.domains.get(0);
        }
      }
      if (tokens.size() >= 2) {
        for (String a : b.aliases) {
          if (tokens.contains(a) && p.alias > best) {
            best = p.alias;
            brandOut[0] = b.domains.get(0);
          }
        }
      }
    }
    return best;
  }

  static String linkWords(String s) {
    StringBuilder b = new StringBuilder("-");
    String f = foldCharacters(s);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      b.append(Character.isLetterOrDigit(c) ? Character.toLowerCase(c) : '-');
    }
    b.append('-');
    for (int i = 0; i < f.length(); i++) {
      char c = f.charAt(i);
      b.append(Character.isLetterOrDigit(c) ? c : '-');
    }
    return b.append('-').toString();
  }

  /** URL rules hit by one link (detector.cc url_signals, without brand_in_path). */
  static void urlSignals(Pack p, Link l, boolean off, List<UrlRule> out) {
    int first = out.size();
    for (UrlRule r : p.urlRules) {
      boolean hit = false;
      for (String[] h : r.hosts) {
        if (!(l.host.equals(h[0]) || l.host.endsWith("." + h[0]))) continue;
        if (!h[1].isEmpty() && !l.path.toLowerCase().startsWith(h[1])) continue;
        hit = true;
        break;
      }
      if (!r.tlds.isEmpty() && !l.ip && !off) hit = r.tlds.contains(l.host.substring(l.host.lastIndexOf('.') + 1));
      if (r.ipHost && l.ip) hit = true;
      if (hit) out.add(r);
    }
    if (out.size() == first) return;
    String own = l.ip ? "" : l.host.substring(0, Math.max(0, l.host.length() - (l.domain.length() - l.domain.indexOf('.'))));
    String words = linkWords(l.path) + linkWords(own);
    for (UrlRule r : p.urlRules) {
      for (String w : r.pathWords) {
        if (words.contains("-" + w + "-")) {
          out.add(r);
          break;
        }
      }
    }
  }

  // ------------------------------------------------------------------ entities
  static final Pattern PHONE =
      Pattern.compile("(?<![\\d.])(?:\\+84|84|0)([35789](?:[ .\\-]?\\d){8})(?![\\d])");
  static final Pattern HANDLE = Pattern.compile("(?<![\\w@])@([A-Za-z][A-Za-z0-9_]{4,31})\\b");
  static final Pattern TME = Pattern.compile("(?i)t\\.me/([A-Za-z][A-Za-z0-9_]{4,31})\\b");
  static final Pattern ZALO_ME = Pattern.compile("(?i)zalo\\.me/(0\\d{9})\\b");
  static final Pattern BANK = Pattern.compile("(?i)(?:stk|số tài khoản|so tai khoan)[^0-9\\n]{0,30}?(\\d{8,16})(?!\\d)");
  static final Pattern EMAIL = Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}");

  static void findEntities(String text, Map<String, String> out) {
    Matcher m = PHONE.matcher(text);
    while (m.find()) out.put("phone:+84" + m.group(1).replaceAll("[ .\\-]", ""), "phone");
    m = ZALO_ME.matcher(text);
    while (m.find()) out.put("phone:+84" + m.group(1).substring(1), "phone");
    m = HANDLE.matcher(text);
    while (m.find()) out.put("handle:@" + m.group(1).toLowerCase(), "handle");
    m = TME.matcher(text);
    while (m.find()) out.put("handle:@" + m.group(1).toLowerCase(), "handle");
    m = BANK.matcher(text);
    while (m.find()) out.put("bank_account:" + m.group(1), "bank_account");
    m = EMAIL.matcher(text);
    while (m.find()) out.put("email:" + m.group().toLowerCase(), "email");
  }

  private Detect() {}
}
