package io.appointmentserver.notify;

/**
 * The {@code websocket} channel (DSTU3): a client bound to the Subscription on this server's
 * {@code /websocket} gets {@code ping <id>} per notification. Not bound in this process: the
 * notification is {@link Channel.Elsewhere}, put off without counting an attempt, so that it waits
 * (in the outbox) until a client binds here or on another process that then leases it.
 */
final class WebSocketChannel implements Channel {
  static final String TYPE = "websocket";

  private final Sockets sockets;

  WebSocketChannel(Sockets sockets) {
    this.sockets = sockets;
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String refusal(ActiveSubscription.ChannelSpec spec) {
    // the client comes to the server: endpoint, payload and headers are not used (as HAPI's)
    return null;
  }

  @Override
  public void send(Notification n) throws Exception {
    if (!sockets.ping(n.subscription().id())) {
      throw new Elsewhere();
    }
  }
}
