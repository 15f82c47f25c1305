package io.appointmentserver.notify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import javax.sql.DataSource;
import org.apache.activemq.ActiveMQConnectionFactory;

/**
 * Change events to a message broker ({@code FHIR_BROKER_URL}): every version written is one more
 * delivery in the Subscriptions' outbox, to the reserved subscriber {@link #SUBSCRIBER}, so it has
 * the outbox's guarantees (recorded in the write's transaction, leased by one process, in order per
 * resource, retried with backoff, never dropped); it is published here, as JSON, persistent, to the
 * topic {@code fhir.<type>}.
 */
public final class ChangeEvents implements AutoCloseable {
  /** The outbox's subscriber id of the broker: a Subscription id never starts with {@code $}. */
  static final String SUBSCRIBER = "$broker";

  /** What an event carries of the resource: the version as stored, or only its reference. */
  public enum Payload { RESOURCE, REFERENCE }

  /** The broker's url, user and password (null: none), and the payload. */
  public record Settings(String url, String user, String password, Payload payload) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Settings settings;
  private final DataSource pool;
  private final ActiveMQConnectionFactory factory;
  private Connection connection;

  ChangeEvents(Settings settings, DataSource pool) {
    this.settings = settings;
    this.pool = pool;
    this.factory = new ActiveMQConnectionFactory(settings.user(), settings.password(), settings.url());
  }

  /** Publishes one change; null when the broker took it, else what went wrong (it is tried again). */
  String publish(Outbox.Leased d) {
    try {
      String body = event(d);
      Session session = session();
      try {
        MessageProducer producer = session.createProducer(session.createTopic("fhir." + d.type()));
        producer.setDeliveryMode(DeliveryMode.PERSISTENT); // a persistent send waits for the broker's receipt
        TextMessage m = session.createTextMessage(body);
        m.setStringProperty("resourceType", d.type());
        m.setStringProperty("id", d.id());
        m.setLongProperty("version", d.version());
        producer.send(m);
      } finally {
        session.close();
      }
      return null;
    } catch (JMSException | SQLException | RuntimeException e) {
      reset();
      return "broker: " + (e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  /** The event's JSON: type, id, version, interaction, time, and the resource or its reference. */
  private String event(Outbox.Leased d) throws SQLException {
    ObjectNode e = JSON.createObjectNode();
    e.put("resourceType", d.type()).put("id", d.id()).put("version", d.version());
    try (java.sql.Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement("""
            SELECT method, deleted, to_char(last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
              FROM resource_history WHERE res_type = ? AND res_id = ? AND version = ?""")) {
      ps.setString(1, d.type());
      ps.setString(2, d.id());
      ps.setLong(3, d.version());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          e.put("interaction", interaction(rs.getString(1), rs.getBoolean(2), d.version()));
          e.put("time", rs.getString(3));
        }
      }
    }
    e.put("reference", d.type() + "/" + d.id() + "/_history/" + d.version());
    if (settings.payload() == Payload.RESOURCE && d.json() != null) {
      try {
        e.set("resource", JSON.readTree(d.json()));
      } catch (java.io.IOException ex) {
        throw new IllegalStateException(ex);
      }
    }
    return e.toString();
  }

  /** The REST interaction that made a version, from the HTTP method stored with it (a patch is stored as a PUT). */
  private static String interaction(String method, boolean deleted, long version) {
    if (deleted) {
      return "delete";
    }
    String m = method == null ? (version == 1 ? "POST" : "PUT") : method.toUpperCase(Locale.ROOT);
    return switch (m) {
      case "POST" -> "create";
      default -> version == 1 ? "create" : "update";
    };
  }

  private synchronized Session session() throws JMSException {
    if (connection == null) {
      connection = factory.createConnection();
      connection.start();
    }
    return connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
  }

  /** Forgets a connection that failed: the next send opens another. */
  private synchronized void reset() {
    if (connection != null) {
      try {
        connection.close();
      } catch (JMSException ignored) {
        // it is gone anyway
      }
      connection = null;
    }
  }

  @Override
  public void close() {
    reset();
  }
}
