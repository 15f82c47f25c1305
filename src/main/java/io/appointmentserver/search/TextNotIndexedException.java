package io.appointmentserver.search;

import java.util.Set;

/**
 * A full-text search reads the words of a type whose stored resources the reindex job has not all
 * indexed with their text yet (a database written before full-text search): rather than a page
 * that misses some of them, the search is refused until the pass is done (a 503).
 */
public final class TextNotIndexedException extends RuntimeException {
  public TextNotIndexedException(Set<String> types) {
    super("The full-text index of " + String.join(", ", types) + " is still being built (progress under"
        + " searchIndex in /health); full-text searches of it are answered when it is done. Retry later.");
  }
}
