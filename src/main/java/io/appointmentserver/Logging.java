package io.appointmentserver;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code FHIR_LOG_LEVEL} and {@code FHIR_ACCESS_LOG} to the logback configuration of
 * {@code logback.xml} (the {@code serve} command does, once: logging is the process's, not a
 * server's).
 */
public final class Logging {
  /** The access log's line: UTC date and time, then what {@code http.AccessLog} writes. */
  public static final String ACCESS_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %msg%n";

  private Logging() {}

  static void apply(Config config) {
    LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
    lc.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(config.logLevel(), Level.INFO));
    ch.qos.logback.classic.Logger access = lc.getLogger("access");
    String target = config.accessLog();
    if (target.isEmpty() || target.equalsIgnoreCase("stderr")) {
      return; // logback.xml's
    }
    if (target.equalsIgnoreCase("off")) {
      access.setLevel(Level.OFF);
      return;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(lc);
    encoder.setPattern(ACCESS_PATTERN);
    encoder.start();
    FileAppender<ILoggingEvent> file = new FileAppender<>();
    file.setContext(lc);
    file.setName("ACCESS_FILE");
    file.setFile(target);
    file.setAppend(true);
    file.setEncoder(encoder);
    file.start();
    if (!file.isStarted()) {
      throw new IllegalArgumentException("FHIR_ACCESS_LOG " + target + " cannot be opened for writing");
    }
    AsyncAppender async = asyncOf(lc, file);
    access.detachAndStopAllAppenders();
    access.addAppender(async);
    access.setLevel(Level.INFO); // whatever logback's file said
  }

  /** Lines are written by logback's own thread; a full queue (1,024 lines) makes requests wait rather than lose lines. */
  private static AsyncAppender asyncOf(LoggerContext lc, FileAppender<ILoggingEvent> file) {
    AsyncAppender async = new AsyncAppender();
    async.setContext(lc);
    async.setName("ACCESS_ASYNC_FILE");
    async.setQueueSize(1024);
    async.setDiscardingThreshold(0);
    async.addAppender(file);
    async.start();
    return async;
  }

  /** Flushes and closes the appenders (the access log's queue): the last thing before exit. */
  static void stop() {
    ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
  }
}
