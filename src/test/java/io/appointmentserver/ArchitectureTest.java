package io.appointmentserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape docs/architecture.md describes, checked on the sources: the layers (no import upwards,
 * so no two packages import each other), the eHealth plug-ins seen only by the wiring, no class
 * over 500 lines, and no constructor or method of the write path with more than five parameters.
 */
class ArchitectureTest {
  private static final Path MAIN = Path.of("src/main/java/io/appointmentserver");
  private static final String ROOT = "io.appointmentserver";
  /** The packages of the write path: what a create, update, patch, delete or transaction runs through. */
  private static final Set<String> WRITE_PATH = Set.of("interaction", "plugin", "ehealth", "security", "store");
  private static final Pattern IMPORT = Pattern.compile("\\bio\\.appointmentserver\\.([a-z]+)\\.[A-Z]");

  private static List<String> layers;
  private static Map<Path, String> sources;

  @BeforeAll
  static void read() throws IOException {
    layers = layers(Files.readString(Path.of("docs/architecture.md")));
    sources = new LinkedHashMap<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
        sources.put(p, Files.readString(p));
      }
    }
  }

  /** The package names of the layer picture, top to bottom: the first word of its lines. */
  static List<String> layers(String doc) {
    int section = doc.indexOf("## Layers");
    int start = doc.indexOf("```", section);
    int end = doc.indexOf("```", start + 3);
    List<String> out = new ArrayList<>();
    for (String line : doc.substring(doc.indexOf('\n', start) + 1, end).split("\n")) {
      Matcher m = Pattern.compile("^\\s*([a-z][a-z.]*)\\s{2,}").matcher(line);
      if (m.find()) {
        out.add(m.group(1).equals(ROOT) ? "" : m.group(1));
      }
    }
    return out;
  }

  private static String packageOf(Path file) {
    Path dir = MAIN.relativize(file).getParent();
    return dir == null ? "" : dir.toString().replace('/', '.');
  }

  @Test
  void everyPackageIsInTheLayerPicture() {
    Set<String> packages = new TreeSet<>();
    sources.keySet().forEach(p -> packages.add(packageOf(p)));
    assertEquals(new TreeSet<>(layers), packages, "docs/architecture.md's layers and the packages of src/main");
  }

  @Test
  void noPackageImportsOneAboveIt() {
    List<String> upward = new ArrayList<>();
    sources.forEach((file, text) -> {
      String from = packageOf(file);
      Matcher m = IMPORT.matcher(text);
      while (m.find()) {
        String to = m.group(1);
        if (!to.equals(from) && layers.indexOf(to) < layers.indexOf(from)) {
          upward.add(MAIN.relativize(file) + " imports " + to);
        }
      }
    });
    assertEquals(List.of(), upward);
  }

  @Test
  void ehealthSeesOnlyThePluginInterfaceAndBelow() {
    List<String> wrong = new ArrayList<>();
    int plugin = layers.indexOf("plugin");
    sources.forEach((file, text) -> {
      String from = packageOf(file);
      Matcher m = IMPORT.matcher(text);
      while (m.find()) {
        String to = m.group(1);
        if (from.equals("ehealth") && !to.equals("ehealth") && layers.indexOf(to) < plugin) {
          wrong.add(MAIN.relativize(file) + " imports " + to);
        }
        if (to.equals("ehealth") && !from.equals("") && !from.equals("ehealth")) {
          wrong.add(MAIN.relativize(file) + " imports ehealth (only the wiring registers plug-ins)");
        }
      }
    });
    assertEquals(List.of(), wrong);
  }

  @Test
  void noClassOverFiveHundredLines() {
    List<String> long_ = new ArrayList<>();
    sources.forEach((file, text) -> {
      long lines = text.lines().count();
      if (lines > 500) {
        long_.add(MAIN.relativize(file) + ": " + lines);
      }
    });
    assertEquals(List.of(), long_);
  }

  /** Declarations: a method or constructor (name, parameters, then a body or throws) or a record header. */
  private static final Pattern DECLARATION = Pattern.compile(
      "(?:\\brecord\\s+(\\w+)|(?<![.\\w])(\\w+))\\s*\\(([^()]*(?:\\([^()]*\\)[^()]*)*)\\)\\s*(?:throws\\s+[\\w.,\\s]+)?\\{");
  private static final Set<String> NOT_DECLARATIONS = Set.of("if", "for", "while", "switch", "catch", "synchronized",
      "return", "new", "try");

  @Test
  void noWritePathSignatureWithMoreThanFiveParameters() {
    List<String> wide = new ArrayList<>();
    sources.forEach((file, text) -> {
      if (!WRITE_PATH.contains(packageOf(file))) {
        return;
      }
      String code = withoutCommentsAndStrings(text);
      Matcher m = DECLARATION.matcher(code);
      while (m.find()) {
        String name = m.group(1) != null ? m.group(1) : m.group(2);
        if (NOT_DECLARATIONS.contains(name) || !isDeclaration(code, m.start())) {
          continue;
        }
        int n = parameters(m.group(3));
        if (n > 5) {
          wide.add(MAIN.relativize(file) + ": " + name + " has " + n + " parameters");
        }
      }
    });
    assertEquals(List.of(), wide);
  }

  /** A declaration's name follows a type or modifier, not an operator, a dot or an opening bracket. */
  private static boolean isDeclaration(String code, int at) {
    int i = at - 1;
    while (i >= 0 && Character.isWhitespace(code.charAt(i))) {
      i--;
    }
    if (i < 0) {
      return false;
    }
    char c = code.charAt(i);
    return Character.isJavaIdentifierPart(c) || c == '>' || c == ']';
  }

  /** Parameters in a list, counting commas outside generic brackets. */
  static int parameters(String list) {
    if (list.isBlank()) {
      return 0;
    }
    int depth = 0;
    int n = 1;
    for (char c : list.toCharArray()) {
      if (c == '<') {
        depth++;
      } else if (c == '>') {
        depth--;
      } else if (c == ',' && depth == 0) {
        n++;
      }
    }
    return n;
  }

  private static String withoutCommentsAndStrings(String text) {
    return text.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ")
        .replaceAll("(?s)\"\"\".*?\"\"\"", "\"\"").replaceAll("\"(?:\\\\.|[^\"\\\\])*\"", "\"\"")
        .replaceAll("'(?:\\\\.|[^'\\\\])'", "' '");
  }

  @Test
  void theCheckersSeeWhatTheyShould() {
    assertEquals(3, parameters("Map<String, List<String>> a, int b, String c"));
    assertTrue(layers.indexOf("http") < layers.indexOf("store"), "the picture lists http above store");
    Matcher m = DECLARATION.matcher("  WriteResult update(String a, String b, int c, int d, int e, int f) {");
    assertTrue(m.find() && parameters(m.group(3)) == 6);
  }
}
