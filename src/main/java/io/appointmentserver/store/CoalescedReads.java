package io.appointmentserver.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads of current versions that arrive while another read's query is in flight wait for it
 * and then go to the database together, as one query for all of them, instead of one round trip
 * each. Each read's query still starts after its request arrived, so it sees every write
 * committed before that (nothing is remembered between queries: another server process's write
 * is seen as it is without coalescing). A read with nothing in flight queries at once, alone.
 *
 * <p>At most {@code maxInFlight} queries run at a time; the reads that come meanwhile queue, and
 * when a query returns, the first of them runs the next query for the whole queue (up to
 * {@link #MAX_BATCH}) on its own thread, so no thread waits for work that is not its own.
 */
final class CoalescedReads {
  /** The most reads one query asks for. */
  static final int MAX_BATCH = 64;

  /** One query for the current versions of {@code keys} (type, id), by {@link #key}. */
  @FunctionalInterface
  interface BatchQuery {
    Map<String, StoredJson> read(List<Pending> batch);
  }

  static String key(String type, String id) {
    return type + '/' + id;
  }

  private static final int WAITING = 0;
  private static final int DONE = 1;
  private static final int LEAD = 2;

  /** One read waiting for its answer, or for its turn to run the query of a batch. */
  static final class Pending {
    final String type;
    final String id;
    private final Thread thread = Thread.currentThread();
    private volatile int state = WAITING;
    private List<Pending> batch;
    private StoredJson result;
    private RuntimeException error;

    private Pending(String type, String id) {
      this.type = type;
      this.id = id;
    }
  }

  private final BatchQuery query;
  private final int maxInFlight;
  private final Object lock = new Object();
  private ArrayList<Pending> queue = new ArrayList<>();
  private int inFlight;

  CoalescedReads(BatchQuery query, int maxInFlight) {
    this.query = query;
    this.maxInFlight = maxInFlight;
  }

  /** The current version of {@code type/id} (a tombstone if deleted), or null if it never existed. */
  StoredJson read(String type, String id) {
    Pending me = new Pending(type, id);
    synchronized (lock) {
      if (inFlight < maxInFlight) {
        inFlight++;
        me.batch = List.of(me);
        me.state = LEAD;
      } else {
        queue.add(me);
      }
    }
    while (me.state == WAITING) {
      LockSupport.park(this); // an interrupt does not end the wait: the read is answered either way
    }
    if (me.state == LEAD) {
      run(me.batch);
    }
    if (me.error != null) {
      throw me.error;
    }
    return me.result;
  }

  private void run(List<Pending> batch) {
    try {
      Map<String, StoredJson> found = query.read(batch);
      for (Pending p : batch) {
        p.result = found.get(key(p.type, p.id));
      }
    } catch (RuntimeException | Error e) {
      RuntimeException error = e instanceof RuntimeException r ? r : new IllegalStateException(e);
      for (Pending p : batch) {
        p.error = error;
      }
    } finally {
      handOff(batch);
    }
  }

  /** The next queued reads go to the first of them to run; this batch's readers are answered. */
  private void handOff(List<Pending> batch) {
    Pending next = null;
    synchronized (lock) {
      if (queue.isEmpty()) {
        inFlight--;
      } else if (queue.size() <= MAX_BATCH) {
        next = queue.get(0);
        next.batch = queue;
        queue = new ArrayList<>();
      } else {
        next = queue.get(0);
        next.batch = new ArrayList<>(queue.subList(0, MAX_BATCH));
        queue = new ArrayList<>(queue.subList(MAX_BATCH, queue.size()));
      }
    }
    if (next != null) {
      next.state = LEAD; // first, so that the next query starts as soon as it can
      LockSupport.unpark(next.thread);
    }
    Thread self = Thread.currentThread();
    for (Pending p : batch) {
      p.state = DONE;
      if (p.thread != self) {
        LockSupport.unpark(p.thread);
      }
    }
  }
}
