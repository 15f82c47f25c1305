package io.appointmentserver.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.util.UUID;

/**
 * Dev mode: when no issuer is configured the server signs and accepts its own tokens with a key
 * it keeps in {@code FHIR_DATA_DIR}, so that a newcomer can make authorized requests at once.
 */
public final class DevKeys {
  public static final String ISSUER = "urn:appointment-server:dev";
  private static final String FILE = "dev-signing-key.json";

  private DevKeys() {}

  /**
   * Where a dev-mode server records its data directory, so that {@code token} run from another
   * working directory finds the key of the server started last: {@code $XDG_STATE_HOME} (else
   * {@code ~/.local/state}) {@code /appointment-server/dev-data-dir}.
   */
  public static Path servedRecord() {
    String state = System.getenv("XDG_STATE_HOME");
    Path base = state != null && !state.isBlank() ? Path.of(state)
        : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("appointment-server").resolve("dev-data-dir");
  }

  /** Records {@code dataDir} as the one a dev-mode server serves from; best effort (a note is no reason to fail). */
  public static void recordServed(Path dataDir) {
    Path record = servedRecord();
    try {
      Files.createDirectories(record.getParent());
      Path tmp = Files.createTempFile(record.getParent(), "dev-data-dir", ".tmp");
      Files.writeString(tmp, dataDir.toAbsolutePath().normalize().toString(), StandardCharsets.UTF_8);
      Files.move(tmp, record, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(DevKeys.class).debug("cannot record the dev data directory in {}", record, e);
    }
  }

  /** The data directory the dev-mode server started last recorded, when it still holds a key. */
  public static java.util.Optional<Path> lastServed() {
    try {
      Path dir = Path.of(Files.readString(servedRecord(), StandardCharsets.UTF_8).trim());
      return Files.exists(file(dir)) ? java.util.Optional.of(dir) : java.util.Optional.empty();
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  /** Where the dev key of {@code dataDir} is kept. */
  public static Path file(Path dataDir) {
    return dataDir.resolve(FILE);
  }

  /** The dev key pair, created on first use. */
  public static synchronized RSAKey load(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    try {
      if (Files.exists(file)) {
        return RSAKey.parse(Files.readString(file, StandardCharsets.UTF_8));
      }
      RSAKey key = new RSAKeyGenerator(2048).keyID("dev-" + UUID.randomUUID()).generate();
      Files.createDirectories(dataDir);
      Path tmp = Files.createTempFile(dataDir, "dev-key", ".tmp");
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException notPosix) {
        // best effort on non-POSIX file systems
      }
      Files.writeString(tmp, key.toJSONString(), StandardCharsets.UTF_8);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return key;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or write the dev signing key " + file, e);
    } catch (ParseException | JOSEException e) {
      throw new IllegalStateException("bad dev signing key in " + file, e);
    }
  }

  public static JWKSet publicKeys(Path dataDir) {
    return new JWKSet(load(dataDir).toPublicJWK());
  }

  /** Signs {@code claims} (issuer set to {@link #ISSUER}) with the dev key. */
  public static String sign(Path dataDir, JWTClaimsSet claims) {
    RSAKey key = load(dataDir);
    JWTClaimsSet withIssuer = new JWTClaimsSet.Builder(claims).issuer(ISSUER).build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
        .type(JOSEObjectType.JWT).build(), withIssuer);
    try {
      jwt.sign(new RSASSASigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

}
