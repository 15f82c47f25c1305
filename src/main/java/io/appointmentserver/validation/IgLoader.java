package io.appointmentserver.validation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the conformance resources the server validates and searches with: the built-in eHealth
 * IG package (the conformance resources of the public eHealth implementation guide, release
 * 2020.8, carried in the jar: {@value #BUILT_IN}; {@code FHIR_IG=none} leaves it out), overlaid by
 * the packages and folders of {@code FHIR_IG_PATH} in their order. A later resource with the
 * canonical URL of an earlier one replaces it, so a newer eHealth release given in
 * {@code FHIR_IG_PATH} replaces the built-in definitions it redefines and keeps the others.
 *
 * <p>A folder is searched recursively for {@code .xml} and {@code .json} files; a package is a
 * {@code .tgz} in the NPM layout (resources under {@code package/}, examples skipped). Only
 * StructureDefinitions, ValueSets, CodeSystems, ConceptMaps and SearchParameters are kept; the
 * built-in package's CapabilityStatements are read on their own ({@link #builtInCapabilityStatement}).
 */
public final class IgLoader {
  private static final Logger log = LoggerFactory.getLogger(IgLoader.class);

  /** The built-in package, made by {@code scripts/package-ehealth-ig.sh}. */
  public static final String BUILT_IN = "ig/dk.ehealth.sundhed.fhir.ig.core-2020.8.tgz";

  private IgLoader() {}

  /** A resource as found, with where it came from (for log lines). */
  public record Loaded(IBaseResource resource, String source) {}

  /**
   * The built-in IG (when {@code builtIn}), then each of {@code paths}, one resource per
   * canonical URL and type: the last one given wins.
   */
  public static List<Loaded> load(FhirContext ctx, boolean builtIn, List<Path> paths) {
    Map<String, Loaded> byUrl = new LinkedHashMap<>();
    List<Loaded> withoutUrl = new ArrayList<>();
    if (builtIn) {
      overlay(ctx, byUrl, withoutUrl, builtIn(ctx), "the built-in IG");
    }
    for (Path p : paths) {
      overlay(ctx, byUrl, withoutUrl, load(ctx, p), p.toString());
    }
    List<Loaded> out = new ArrayList<>(byUrl.values());
    out.addAll(withoutUrl);
    return out;
  }

  private static void overlay(FhirContext ctx, Map<String, Loaded> byUrl, List<Loaded> withoutUrl,
      List<Loaded> layer, String name) {
    int replaced = 0;
    for (Loaded l : layer) {
      String url = ctx.newTerser().getSinglePrimitiveValueOrNull(l.resource(), "url");
      if (url == null || url.isBlank()) {
        withoutUrl.add(l);
      } else if (byUrl.put(ctx.getResourceType(l.resource()) + "|" + url, l) != null) {
        replaced++;
      }
    }
    log.info("IG: {} conformance resources from {}{}", layer.size(), name,
        replaced == 0 ? "" : " (" + replaced + " of them replace ones loaded before, by canonical URL)");
  }

  /** The conformance resources of the built-in eHealth IG package. */
  public static List<Loaded> builtIn(FhirContext ctx) {
    return builtIn(ctx, ProfileValidator.CONFORMANCE_TYPES);
  }

  /**
   * The CapabilityStatement of canonical URL {@code url} in the built-in package (the IG's
   * statements of the eHealth services, e.g. {@code .../CapabilityStatement/patient}).
   */
  public static IBaseResource builtInCapabilityStatement(FhirContext ctx, String url) {
    return builtIn(ctx, Set.of(CAPABILITY_STATEMENT)).stream().map(Loaded::resource)
        .filter(r -> url.equals(ctx.newTerser().getSinglePrimitiveValueOrNull(r, "url"))).findFirst()
        .orElseThrow(() -> new IllegalStateException("the built-in IG package " + BUILT_IN + " has no " + url));
  }

  private static List<Loaded> builtIn(FhirContext ctx, Set<String> types) {
    try (InputStream in = IgLoader.class.getClassLoader().getResourceAsStream(BUILT_IN)) {
      if (in == null) {
        throw new IllegalStateException("the built-in IG package " + BUILT_IN + " is missing from the class path");
      }
      List<Loaded> out = new ArrayList<>();
      readPackage(ctx, in, BUILT_IN, out, types);
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("the built-in IG package " + BUILT_IN + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static final String CAPABILITY_STATEMENT = "CapabilityStatement";

  /** The conformance resources of one folder or package. */
  public static List<Loaded> load(FhirContext ctx, Path path) {
    if (!Files.exists(path)) {
      throw new IllegalArgumentException("FHIR_IG_PATH " + path.toAbsolutePath() + " does not exist");
    }
    List<Loaded> out = new ArrayList<>();
    if (Files.isDirectory(path)) {
      try {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(path)) {
          // sorted, so that which of two files with one URL wins does not depend on the file system
          files = walk.filter(Files::isRegularFile).filter(p -> isResourceFile(p.toString())).sorted().toList();
        }
        for (Path f : files) {
          add(ctx, out, Files.readString(f, StandardCharsets.UTF_8), path.relativize(f).toString(),
              ProfileValidator.CONFORMANCE_TYPES);
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("FHIR_IG_PATH " + path + " cannot be read: " + e.getMessage(), e);
      }
    } else if (isPackage(path.getFileName().toString())) {
      try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
        readPackage(ctx, in, path.getFileName().toString(), out, ProfileValidator.CONFORMANCE_TYPES);
      } catch (IOException e) {
        // a truncated or corrupt download: say which file, not a stack trace
        throw new IllegalArgumentException("FHIR_IG_PATH " + path + " is not a readable IG package (.tgz): "
            + e.getMessage(), e);
      }
    } else {
      throw new IllegalArgumentException("FHIR_IG_PATH " + path + " is neither a folder nor a .tgz package");
    }
    return out;
  }

  /** The resources of {@code types} in a package. */
  private static void readPackage(FhirContext ctx, InputStream in, String name, List<Loaded> out, Set<String> types)
      throws IOException {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(in))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        String entry = e.getName();
        // package.json and the .index.json files describe the package; examples are not definitions
        if (e.isFile() && isResourceFile(entry) && !entry.endsWith("package.json") && !entry.contains(".index.")
            && !entry.contains("/example/")) {
          add(ctx, out, new String(tar.readAllBytes(), StandardCharsets.UTF_8), name + "!" + entry, types);
        }
      }
    }
  }

  private static void add(FhirContext ctx, List<Loaded> out, String text, String source, Set<String> types) {
    String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
    if (types.stream().noneMatch(body::contains)) {
      return; // not worth parsing
    }
    IParser parser = body.stripLeading().startsWith("<") ? ctx.newXmlParser() : ctx.newJsonParser();
    // the IG is not the client's input: an element this HAPI version does not know is dropped, not fatal
    parser.setParserErrorHandler(new LenientErrorHandler(false));
    try {
      IBaseResource r = parser.parseResource(body);
      if (types.contains(ctx.getResourceType(r))) {
        out.add(new Loaded(r, source));
      }
    } catch (DataFormatException e) {
      log.warn("IG file {} skipped: {}", source, e.getMessage());
    }
  }

  private static boolean isResourceFile(String name) {
    String n = name.toLowerCase();
    return n.endsWith(".xml") || n.endsWith(".json");
  }

  private static boolean isPackage(String name) {
    String n = name.toLowerCase();
    return n.endsWith(".tgz") || n.endsWith(".tar.gz");
  }
}
