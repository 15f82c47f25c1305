package io.appointmentserver.http;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Lets what HAPI writes leave in one piece instead of a few bytes at a time.
 *
 * <p>HAPI's JSON writer goes through a Jackson generator whose ObjectMapper flushes after every
 * primitive value ({@code SerializationFeature.FLUSH_AFTER_WRITE_VALUE}), and every flush of a
 * servlet response sends what is buffered: the response to the seed PUT went out as 38 chunks,
 * one socket write each. Here {@code flush()} of the response's writer and stream does nothing;
 * the bytes still go straight into Jetty's buffer, which sends them when it is full and when the
 * response completes (then with a Content-Length instead of chunks when everything fit). The
 * bytes of the response do not change.
 */
final class WholeResponses extends HttpFilter {

  @Override
  protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
      throws IOException, ServletException {
    chain.doFilter(req, new Unflushed(resp));
  }

  private static final class Unflushed extends HttpServletResponseWrapper {
    private PrintWriter writer;
    private ServletOutputStream stream;

    Unflushed(HttpServletResponse resp) {
      super(resp);
    }

    @Override
    public PrintWriter getWriter() throws IOException {
      if (writer == null) {
        writer = new PrintWriter(super.getWriter(), false) {
          @Override
          public void flush() {
            // see the class comment: Jetty sends the buffer when it is full or complete
          }
        };
      }
      return writer;
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
      if (stream == null) {
        ServletOutputStream out = super.getOutputStream();
        stream = new ServletOutputStream() {
          @Override
          public void write(int b) throws IOException {
            out.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
          }

          @Override
          public void flush() {
            // see the class comment
          }

          @Override
          public void close() throws IOException {
            out.close();
          }

          @Override
          public boolean isReady() {
            return out.isReady();
          }

          @Override
          public void setWriteListener(WriteListener listener) {
            out.setWriteListener(listener);
          }
        };
      }
      return stream;
    }
  }
}
