package io.appointmentserver.api;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
      Pattern.compile("([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\\-.]{1,64})(/_history/[A-Za-z0-9\\-.]{1,64})?");

  private final FhirContext ctx;
  private final Set<String> resourceTypes;

  public References(FhirContext ctx) {
    this.ctx = ctx;
    this.resourceTypes = ctx.getResourceTypes();
  }

  /**
   * Rewrites references under any of {@code ownBases} to relative form and returns the set of
   * local targets ({@code Type/id}).
   */
  public Set<String> localize(IBaseResource resource, List<String> ownBases) {
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
      }
    }
    return targets;
  }
}
