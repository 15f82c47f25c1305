package io.appointmentserver.support;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * An npm package fetched with {@code npm pack} and unpacked with plain Java (gzip and a small
 * ustar/pax reader), for tests that need a FHIR package such as {@code hl7.fhir.r3.examples}.
 */
public final class NpmPackage {
  private NpmPackage() {}

  /**
   * The {@code package/} folder of {@code name@version}, unpacked under {@code dir}; fetched
   * with {@code npm pack} and unpacked only when it is not there yet.
   */
  public static synchronized Path unpacked(String name, String version, Path dir) throws IOException, InterruptedException {
    Path pkg = dir.resolve("package");
    Path done = dir.resolve(".unpacked");
    if (Files.isRegularFile(done) && Files.isDirectory(pkg)) {
      return pkg;
    }
    Files.createDirectories(dir);
    Path tgz = dir.resolve(name + "-" + version + ".tgz");
    if (!Files.isRegularFile(tgz)) {
      Path log = dir.resolve("npm-pack.log");
      Process p = new ProcessBuilder("npm", "pack", name + "@" + version)
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException("npm pack " + name + "@" + version + " did not finish in 5 minutes");
      }
      if (p.exitValue() != 0 || !Files.isRegularFile(tgz)) {
        throw new IOException("npm pack " + name + "@" + version + " failed (exit " + p.exitValue() + "): "
            + Files.readString(log));
      }
    }
    Path tmp = Files.createTempDirectory(dir, "unpack");
    try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tgz)), 65536)) {
      untar(in, tmp);
    } catch (IOException e) {
      Files.deleteIfExists(tgz); // a broken download: fetch it again next time
      deleteTree(tmp);
      throw e;
    }
    deleteTree(pkg);
    Files.move(tmp.resolve("package"), pkg, StandardCopyOption.ATOMIC_MOVE);
    deleteTree(tmp);
    Files.writeString(done, name + "@" + version + "\n");
    return pkg;
  }

  /** Extracts the regular files of a tar stream (ustar names, pax {@code path} records) into {@code dest}. */
  static void untar(InputStream in, Path dest) throws IOException {
    byte[] header = new byte[512];
    String paxPath = null;
    Path root = dest.toAbsolutePath().normalize();
    while (true) {
      if (in.readNBytes(header, 0, 512) < 512 || isZero(header)) {
        return;
      }
      String name = string(header, 0, 100);
      long size = octal(header, 124, 12);
      char type = (char) header[156];
      String prefix = string(header, 345, 155);
      if (!prefix.isEmpty()) {
        name = prefix + "/" + name;
      }
      byte[] data = null;
      if (type == 'x' || type == 'g' || type == 'L') {
        data = in.readNBytes((int) size);
      }
      if (type == 'x') {
        paxPath = paxRecord(new String(data, StandardCharsets.UTF_8), "path");
      } else if (type == 'L') {
        paxPath = new String(data, StandardCharsets.UTF_8).replace("\0", "");
      } else if (type == '0' || type == '\0' || type == '7') {
        if (paxPath != null) {
          name = paxPath;
          paxPath = null;
        }
        Path target = root.resolve(name).normalize();
        if (!target.startsWith(root)) {
          throw new IOException("tar entry outside the destination: " + name);
        }
        Files.createDirectories(target.getParent());
        Files.write(target, in.readNBytes((int) size));
      } else {
        paxPath = type == 'g' ? paxPath : null;
        in.skipNBytes(size);
      }
      long pad = (512 - size % 512) % 512;
      in.skipNBytes(pad);
    }
  }

  private static String paxRecord(String records, String key) {
    // records are "<len> key=value\n"
    for (String line : records.split("\n")) {
      int space = line.indexOf(' ');
      int eq = line.indexOf('=');
      if (space > 0 && eq > space && line.substring(space + 1, eq).equals(key)) {
        return line.substring(eq + 1);
      }
    }
    return null;
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static String string(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static long octal(byte[] b, int off, int len) {
    String s = string(b, off, len).trim();
    return s.isEmpty() ? 0 : Long.parseLong(s, 8);
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      walk.sorted(Comparator.reverseOrder()).forEach(x -> {
        try {
          Files.delete(x);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  /** The {@code *.json} files directly in {@code dir}, sorted by name. */
  public static java.util.List<Path> jsonFiles(Path dir) throws IOException {
    java.util.List<Path> out = new java.util.ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.json")) {
      ds.forEach(out::add);
    }
    out.sort(Comparator.comparing(p -> p.getFileName().toString()));
    return out;
  }
}
