package io.appointmentserver.validation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the conformance resources of an implementation guide ({@code FHIR_IG_PATH}): a folder
 * searched recursively for {@code .xml} and {@code .json} files, or an IG package
 * ({@code .tgz}, the NPM layout with the resources under {@code package/}). Only
 * StructureDefinitions, ValueSets, CodeSystems and SearchParameters are kept; other resources
 * (CapabilityStatements, OperationDefinitions, examples) are skipped.
 */
public final class IgLoader {
  private static final Logger log = LoggerFactory.getLogger(IgLoader.class);

  private IgLoader() {}

  /** A resource as found, with where it came from (for log lines). */
  public record Loaded(IBaseResource resource, String source) {}

  public static List<Loaded> load(FhirContext ctx, Path path) {
    if (!Files.exists(path)) {
      throw new IllegalArgumentException("FHIR_IG_PATH " + path.toAbsolutePath() + " does not exist");
    }
    List<Loaded> out = new ArrayList<>();
    try {
      if (Files.isDirectory(path)) {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(path)) {
          // sorted, so that which of two files with one URL wins does not depend on the file system
          files = walk.filter(Files::isRegularFile).filter(p -> isResourceFile(p.toString())).sorted().toList();
        }
        for (Path f : files) {
          add(ctx, out, Files.readString(f, StandardCharsets.UTF_8), path.relativize(f).toString());
        }
      } else if (isPackage(path.getFileName().toString())) {
        readPackage(ctx, path, out);
      } else {
        throw new IllegalArgumentException("FHIR_IG_PATH " + path + " is neither a folder nor a .tgz package");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read FHIR_IG_PATH " + path, e);
    }
    return out;
  }

  private static void readPackage(FhirContext ctx, Path tgz, List<Loaded> out) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(tgz));
         TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(in))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        String name = e.getName();
        // package.json and the .index.json files describe the package; examples are not definitions
        if (e.isFile() && isResourceFile(name) && !name.endsWith("package.json") && !name.contains(".index.")
            && !name.contains("/example/")) {
          add(ctx, out, new String(tar.readAllBytes(), StandardCharsets.UTF_8), tgz.getFileName() + "!" + name);
        }
      }
    }
  }

  private static void add(FhirContext ctx, List<Loaded> out, String text, String source) {
    String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
    if (!mentionsConformanceType(body)) {
      return; // not worth parsing
    }
    IParser parser = body.stripLeading().startsWith("<") ? ctx.newXmlParser() : ctx.newJsonParser();
    // the IG is not the client's input: an element this HAPI version does not know is dropped, not fatal
    parser.setParserErrorHandler(new LenientErrorHandler(false));
    try {
      IBaseResource r = parser.parseResource(body);
      if (ProfileValidator.CONFORMANCE_TYPES.contains(ctx.getResourceType(r))) {
        out.add(new Loaded(r, source));
      }
    } catch (DataFormatException e) {
      log.warn("IG file {} skipped: {}", source, e.getMessage());
    }
  }

  private static boolean mentionsConformanceType(String body) {
    for (String type : ProfileValidator.CONFORMANCE_TYPES) {
      if (body.contains(type)) {
        return true;
      }
    }
    return false;
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
