package io.appointmentserver.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * The gzip form of stored versions, kept by version: a version's JSON never changes once written,
 * so its compressed bytes stay right whatever other processes write (a new version has a new key),
 * and the repeated reads of a version compress it once. A miss compresses with a deflater kept per
 * thread, instead of building (and natively allocating) one per response.
 */
final class GzipCache {
  private static final ThreadLocal<Deflater> DEFLATER = ThreadLocal.withInitial(() -> new Deflater(6, true));
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};

  private final Cache<String, byte[]> cache;

  GzipCache(long maxBytes) {
    cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String k, byte[] v) -> k.length() + v.length)
        .executor(Runnable::run) // upkeep on the caller: no thread of the common pool woken for it (see ReadCache)
        .build();
  }

  /** The gzip of {@code json}, the body of {@code type/id} at {@code version}. */
  byte[] get(String type, String id, long version, byte[] json) {
    return cache.get(type + '/' + id + '/' + version, k -> gzip(json));
  }

  /** RFC 1952 gzip of {@code data} at level 6 (zlib's default, as GZIPOutputStream's). */
  static byte[] gzip(byte[] data) {
    Deflater d = DEFLATER.get();
    d.reset();
    d.setInput(data);
    d.finish();
    byte[] out = Arrays.copyOf(HEADER, Math.max(64, data.length / 2 + HEADER.length + 8));
    int n = HEADER.length;
    while (!d.finished()) {
      if (n == out.length) {
        out = Arrays.copyOf(out, out.length * 2);
      }
      n += d.deflate(out, n, out.length - n);
    }
    CRC32 crc = new CRC32();
    crc.update(data);
    out = Arrays.copyOf(out, n + 8);
    writeIntLe(out, n, (int) crc.getValue());
    writeIntLe(out, n + 4, data.length);
    return out;
  }

  private static void writeIntLe(byte[] b, int at, int v) {
    b[at] = (byte) v;
    b[at + 1] = (byte) (v >>> 8);
    b[at + 2] = (byte) (v >>> 16);
    b[at + 3] = (byte) (v >>> 24);
  }
}
