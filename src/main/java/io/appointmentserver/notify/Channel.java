package io.appointmentserver.notify;

/**
 * A way a notification leaves the server ({@code Subscription.channel.type}): {@link RestHook} is
 * one; another channel (websocket, message) is one more implementation, registered by its type.
 */
interface Channel {
  /** The {@code channel.type} code it serves, e.g. {@code rest-hook}. */
  String type();

  /** Refuses (with the reason) a channel the server will not serve, at create: null when it is fine. */
  String refusal(ActiveSubscription.ChannelSpec spec);

  /** Sends one notification; an exception (with a message for the Subscription's {@code error}) when it failed. */
  void send(Notification n) throws Exception;

  /** One notification: the Subscription it is for, and the version of the resource ({@code json} as stored). */
  record Notification(ActiveSubscription subscription, String type, String id, long version, String json) {}

  /** Thrown by {@link #send} when the receiver is not reachable from this process now: put off, no attempt counted. */
  final class Elsewhere extends Exception {
    Elsewhere() {
      super("no receiver here", null, false, false);
    }
  }
}
