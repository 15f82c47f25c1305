package io.appointmentserver.interaction;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * References in a resource being written
 * (<a href="https://hl7.org/fhir/STU3/references.html">DSTU3 references</a>): an absolute URL
 * under this server's own base becomes relative ({@code http://localhost:8080/fhir/Patient/240}
 * becomes {@code Patient/240}); everything else (contained {@code #x}, other servers, URNs) is
 * kept exactly as sent. Returns the local references, as {@code Type/id}, whose targets must exist.
 */
public final class References {
  private static final Pattern LOCAL =
      Pattern.compile("([A-Z][A-Za-z]{1,63})/(" + Ids.ID_PATTERN + ")(/_history/" + Ids.ID_PATTERN + ")?");

  private final FhirContext ctx;
  private final Set<String> resourceTypes;

  FhirContext context() {
    return ctx;
  }

  public References(FhirContext ctx) {
    this.ctx = ctx;
    this.resourceTypes = ctx.getResourceTypes();
  }

  /** A URI scheme: what an absolute reference starts with. */
  private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.\\-]*:.*", Pattern.DOTALL);

  /**
   * Rewrites references under any of {@code ownBases} to relative form and returns the set of
   * local targets ({@code Type/id}). With {@code strict} (the targets are to be checked), a
   * reference that cannot be resolved at all is a 400: a relative one that is not
   * {@code Type/id} of a known type and a valid id, a {@code urn:uuid:} or {@code urn:oid:} left
   * over (it names a Bundle entry: outside a Bundle, or no entry of it, there is none), an
   * absolute one that is no URI.
   */
  public Set<String> localize(IBaseResource resource, List<String> ownBases, boolean strict) {
    FhirTerser terser = ctx.newTerser();
    Set<String> targets = new LinkedHashSet<>();
    for (IBaseReference ref : terser.getAllPopulatedChildElementsOfType(resource, IBaseReference.class)) {
      String value = ref.getReferenceElement().getValue();
      if (value == null || value.isEmpty() || value.startsWith("#")) {
        continue;
      }
      String relative = value;
      for (String base : ownBases) {
        if (base != null && value.length() > base.length() + 1 && value.startsWith(base)
            && value.charAt(base.length()) == '/') {
          relative = value.substring(base.length() + 1);
          break;
        }
      }
      Matcher m = LOCAL.matcher(relative);
      if (m.matches() && resourceTypes.contains(m.group(1))) {
        if (!relative.equals(value)) {
          ref.setReference(relative);
        }
        targets.add(m.group(1) + "/" + m.group(2));
      } else if (strict) {
        String wrong = unresolvable(relative);
        if (wrong != null) {
          String msg = "The reference " + value + " " + wrong;
          throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
        }
      }
    }
    return targets;
  }

  /** Why a reference that is not {@code Type/id} of a known type cannot be resolved; null when it may be another server's. */
  private String unresolvable(String value) {
    String lower = value.toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("urn:uuid:") || lower.startsWith("urn:oid:")) {
      return "names no entry of a transaction: such a reference is resolved only within a transaction Bundle"
          + " that has an entry with that fullUrl";
    }
    if (SCHEME.matcher(value).matches()) {
      try {
        new java.net.URI(value);
        return null; // another server's resource (or a logical URI): not this server's to check
      } catch (java.net.URISyntaxException e) {
        return "is not a valid URI: " + e.getMessage();
      }
    }
    int slash = value.indexOf('/');
    String type = slash < 0 ? value : value.substring(0, slash);
    if (!resourceTypes.contains(type)) {
      return "does not name a resource type (a relative reference is [type]/[id])";
    }
    return "is not [type]/[id] with a valid id (1-64 of A-Z, a-z, 0-9, '-' and '.')"
        + (value.indexOf('?') >= 0 ? "; a conditional reference is resolved only within a transaction" : "");
  }
}
