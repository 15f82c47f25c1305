package io.appointmentserver.validation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.ConceptValidationOptions;
import ca.uhn.fhir.context.support.IValidationSupport.CodeValidationResult;
import ca.uhn.fhir.context.support.IValidationSupport.IssueSeverity;
import ca.uhn.fhir.context.support.IValidationSupport.LookupCodeResult;
import ca.uhn.fhir.context.support.IValidationSupport.ValueSetExpansionOutcome;
import ca.uhn.fhir.context.support.LookupCodeRequest;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import ca.uhn.fhir.context.support.ValueSetExpansionOptions;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.dstu3.model.CodeSystem;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.ConceptMap;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.dstu3.model.ValueSet;
import org.hl7.fhir.dstu3.model.ValueSet.ValueSetExpansionContainsComponent;

/**
 * The terminology operations over the CodeSystems, ValueSets and ConceptMaps the server knows (the
 * DSTU3 ones, the IG's, those written through the API): of one {@link Generation}, whose support
 * chain it asks (HAPI's in-memory terminology expands, validates codes and looks them up); what
 * HAPI does not do is here: the hierarchy ({@link CodeHierarchy}: $subsumes, parent and child in
 * $lookup), translation ({@link ConceptTranslation}), the text filter and paging of $expand. Known
 * value sets' expansions, hierarchies and $validate-code answers are remembered, bounded by bytes;
 * a new generation (a conformance write) starts afresh.
 */
public final class Terminology {
  /** The most codes an expansion may have: a larger one is refused (400, too-costly), paged or not. */
  public static final int MAX_EXPANSION = 10_000;
  /** Bytes (estimated) of expansions, hierarchies and answers remembered per generation. */
  static final long REMEMBERED_BYTES = 16L << 20;

  /** What $validate-code answers: {@code display} is the code's own, when known. */
  public record CodeCheck(boolean result, String message, String display) implements Weighed {
    @Override
    public long weight() {
      return 100 + 2L * ((message == null ? 0 : message.length()) + (display == null ? 0 : display.length()));
    }
  }

  /** $expand's text filter and page; nulls for none. */
  public record Paging(String filter, Integer count, Integer offset) {}

  private interface Weighed {
    long weight();
  }

  private record Expansion(List<ValueSetExpansionContainsComponent> contains, long weight) implements Weighed {}

  private record Hierarchy(CodeHierarchy of) implements Weighed {
    @Override
    public long weight() {
      return of.weight();
    }
  }

  private final FhirContext ctx;
  private final ValidationSupportChain chain;
  private final Supplier<List<ConceptMap>> conceptMaps;
  private final Cache<String, Weighed> remembered = Caffeine.newBuilder()
      .maximumWeight(REMEMBERED_BYTES)
      .weigher((String k, Weighed v) -> (int) Math.min(Integer.MAX_VALUE, 2L * k.length() + v.weight()))
      .executor(Runnable::run) // its upkeep on the calling thread, as the server's other caches
      .build();

  Terminology(ValidationSupportChain chain, Supplier<List<ConceptMap>> conceptMaps) {
    this.ctx = chain.getFhirContext();
    this.chain = chain;
    this.conceptMaps = conceptMaps;
  }

  private ValidationSupportContext context() {
    return new ValidationSupportContext(chain);
  }

  /** The ValueSet of {@code url} (a {@code |version} suffix allowed), or null; not to be changed. */
  public ValueSet valueSet(String url) {
    return chain.fetchValueSet(url) instanceof ValueSet vs ? vs : null;
  }

  /** The CodeSystem of {@code url}, or null; not to be changed. */
  public CodeSystem codeSystem(String url) {
    return chain.fetchCodeSystem(url) instanceof CodeSystem cs ? cs : null;
  }

  /** The ConceptMap of {@code url}, or null. */
  public ConceptMap conceptMap(String url) {
    return conceptMaps.get().stream().filter(m -> url.equals(m.getUrl())).findFirst().orElse(null);
  }

  /** The known ConceptMaps from {@code source} to {@code target} (value set URLs; null: any). */
  public List<ConceptMap> conceptMaps(String source, String target) {
    return conceptMaps.get().stream()
        .filter(m -> source == null || source.equals(scopeOf(m.getSource())))
        .filter(m -> target == null || target.equals(scopeOf(m.getTarget())))
        .toList();
  }

  /** A ConceptMap's source or target: a uri or a Reference to a ValueSet. */
  private static String scopeOf(org.hl7.fhir.dstu3.model.Type t) {
    return t instanceof org.hl7.fhir.dstu3.model.Reference r ? r.getReference() : t == null ? null : t.primitiveValue();
  }

  /**
   * $lookup: name, version, display, abstract, designations and the asked properties (all when
   * none is asked), with {@code parent} and {@code child} where the code system has a hierarchy.
   */
  public Parameters lookup(String system, String version, String code, List<String> properties) {
    CodeSystem cs = knownVersion(system, version);
    LookupCodeResult r = chain.lookupCode(context(), new LookupCodeRequest(system, code, null, properties));
    if (r == null || !r.isFound()) {
      throw notFound(system, code, cs);
    }
    Parameters out = (Parameters) r.toParameters(ctx,
        properties.isEmpty() ? null : properties.stream().map(CodeType::new).toList());
    if (cs != null && cs.hasVersion() && !out.getParameter().stream().anyMatch(p -> p.getName().equals("version"))) {
      out.getParameter().add(1, new ParametersParameterComponent().setName("version")
          .setValue(new org.hl7.fhir.dstu3.model.StringType(cs.getVersion())));
    }
    CodeHierarchy h = cs == null ? null : hierarchy(cs);
    if (h != null && !h.flat()) {
      if (properties.isEmpty() || properties.contains("parent")) {
        h.parentsOf(code).forEach(p -> property(out, "parent", p));
      }
      if (properties.isEmpty() || properties.contains("child")) {
        h.childrenOf(code).forEach(c -> property(out, "child", c));
      }
    }
    return out;
  }

  /** Adds the property {@code name} = {@code value} unless the code system's own properties gave it already. */
  private static void property(Parameters out, String name, String value) {
    for (ParametersParameterComponent p : out.getParameter()) {
      if (p.getName().equals("property") && p.getPart().stream().anyMatch(x -> x.getName().equals("code")
          && name.equals(x.getValue().primitiveValue())) && p.getPart().stream().anyMatch(x -> x.getName().equals("value")
          && value.equals(x.getValue().primitiveValue()))) {
        return;
      }
    }
    ParametersParameterComponent p = out.addParameter().setName("property");
    p.addPart().setName("code").setValue(new CodeType(name));
    p.addPart().setName("value").setValue(new CodeType(value));
  }

  /** $subsumes: equivalent, subsumes, subsumed-by or not-subsumed, of two codes of one code system. */
  public String subsumes(String system, String version, String codeA, String codeB) {
    CodeSystem cs = knownVersion(system, version);
    if (cs == null) {
      throw TerminologyException.notFound("CodeSystem " + system + " is not known to this server");
    }
    CodeHierarchy h = hierarchy(cs);
    for (String code : List.of(codeA, codeB)) {
      if (h.concept(code) == null) {
        throw notFound(system, code, cs);
      }
    }
    return h.subsumes(codeA, codeB);
  }

  private CodeSystem knownVersion(String system, String version) {
    CodeSystem cs = codeSystem(system);
    if (version != null && cs != null && cs.hasVersion() && !version.equals(cs.getVersion())) {
      throw TerminologyException.notFound("CodeSystem " + system + " version " + version
          + " is not known to this server (it has version " + cs.getVersion() + ")");
    }
    return cs;
  }

  private TerminologyException notFound(String system, String code, CodeSystem cs) {
    if (cs == null && !chain.isCodeSystemSupported(context(), system)) {
      return TerminologyException.notFound("CodeSystem " + system + " is not known to this server");
    }
    return TerminologyException.notFound("Code " + code + " is not in CodeSystem " + system);
  }

  /** The hierarchy of the code system of {@code url}, or null when the server does not have its concepts. */
  private CodeHierarchy hierarchyOf(String url) {
    CodeSystem cs = codeSystem(url);
    return cs == null ? null : hierarchy(cs);
  }

  private CodeHierarchy hierarchy(CodeSystem cs) {
    return ((Hierarchy) remember("hierarchy\n" + cs.getUrl() + "|" + cs.getVersion(),
        k -> new Hierarchy(new CodeHierarchy(cs)))).of();
  }

  /**
   * $validate-code: whether one of {@code codings} is in {@code vs} (HAPI's in-memory validation,
   * which expands no more than it must) and, when a display is given, whether it is the code's.
   * {@code known}: the value set is one the server knows (not one sent in the request), so the
   * answer is remembered.
   */
  public CodeCheck validateCode(ValueSet vs, boolean known, List<Coding> codings) {
    CodeCheck first = null;
    for (Coding c : codings) {
      String key = known ? "validate\n" + vs.getUrl() + "|" + vs.getVersion() + "\n" + c.getSystem() + "\n"
          + c.getCode() + "\n" + c.getDisplay() : null;
      CodeCheck check = key == null ? check(vs, c) : (CodeCheck) remember(key, k -> check(vs, c));
      if (check.result()) {
        return check;
      }
      first = first == null ? check : first;
    }
    return first;
  }

  private CodeCheck check(ValueSet vs, Coding c) {
    ConceptValidationOptions options = new ConceptValidationOptions().setInferSystem(!c.hasSystem());
    CodeValidationResult r = chain.validateCodeInValueSet(context(), options, c.getSystem(), c.getCode(),
        c.getDisplay(), PropertyFilters.resolved(vs, this::hierarchyOf));
    String what = (c.hasSystem() ? c.getSystem() + "|" : "") + c.getCode();
    if (r == null || !r.isOk() || r.getSeverity() == IssueSeverity.ERROR || r.getSeverity() == IssueSeverity.FATAL) {
      return new CodeCheck(false, r != null && r.getMessage() != null ? r.getMessage()
          : "The code " + what + " is not in the value set " + vs.getUrl(), null);
    }
    String display = r.getDisplay();
    if (c.hasDisplay() && display != null && !display.equalsIgnoreCase(c.getDisplay())) {
      return new CodeCheck(false, "The display \"" + c.getDisplay() + "\" is not that of " + what + ": \""
          + display + "\"", display);
    }
    return new CodeCheck(true, r.getMessage(), display);
  }

  /**
   * $expand: the expansion of {@code vs} (HAPI's in-memory expansion: includes and excludes,
   * other value sets, filters on properties and on the hierarchy), then the text filter (in a
   * code or display, ignoring case) and the page. {@code known} as for {@link #validateCode}.
   */
  public ValueSet expand(ValueSet vs, boolean known, Paging paging) {
    int offset = paging.offset() == null ? 0 : paging.offset();
    if (offset < 0 || (paging.count() != null && paging.count() < 0)) {
      throw TerminologyException.invalid(IssueType.VALUE, "count and offset must not be negative");
    }
    List<ValueSetExpansionContainsComponent> all = known
        ? ((Expansion) remember("expand\n" + vs.getUrl() + "|" + vs.getVersion(), k -> expansion(vs))).contains()
        : expansion(vs).contains();
    List<ValueSetExpansionContainsComponent> matching = all;
    if (paging.filter() != null && !paging.filter().isBlank()) {
      String f = paging.filter().trim().toLowerCase(Locale.ROOT);
      matching = all.stream().filter(c -> contains(c.getCode(), f) || contains(c.getDisplay(), f)).toList();
    }
    int count = paging.count() == null ? matching.size() : paging.count();
    ValueSet out = new ValueSet();
    out.setId(vs.getIdElement().getIdPart());
    out.setUrl(vs.getUrl()).setVersion(vs.getVersion()).setName(vs.getName()).setTitle(vs.getTitle());
    out.setStatus(vs.getStatus());
    ValueSet.ValueSetExpansionComponent e = out.getExpansion();
    e.setIdentifier("urn:uuid:" + java.util.UUID.randomUUID()).setTimestamp(new java.util.Date());
    e.setTotal(matching.size()).setOffset(offset);
    if (paging.filter() != null) {
      e.addParameter().setName("filter").setValue(new org.hl7.fhir.dstu3.model.StringType(paging.filter()));
    }
    if (paging.count() != null) {
      e.addParameter().setName("count").setValue(new org.hl7.fhir.dstu3.model.IntegerType(count));
    }
    if (paging.offset() != null) {
      e.addParameter().setName("offset").setValue(new org.hl7.fhir.dstu3.model.IntegerType(offset));
    }
    for (int i = offset; i < matching.size() && i - offset < count; i++) {
      e.addContains(matching.get(i).copy());
    }
    return out;
  }

  private static boolean contains(String s, String lowerCaseFilter) {
    return s != null && s.toLowerCase(Locale.ROOT).contains(lowerCaseFilter);
  }

  private Expansion expansion(ValueSet vs) {
    ValueSetExpansionOutcome outcome;
    try {
      outcome = chain.expandValueSet(context(), new ValueSetExpansionOptions(),
          PropertyFilters.resolved(vs, this::hierarchyOf));
    } catch (TerminologyException e) {
      throw e;
    } catch (RuntimeException e) {
      // HAPI's expander refusing what it cannot evaluate (an unsupported filter, say)
      throw TerminologyException.invalid(IssueType.NOTSUPPORTED, "ValueSet " + name(vs) + " cannot be expanded: "
          + e.getMessage());
    }
    if (outcome == null || outcome.getValueSet() == null) {
      throw TerminologyException.invalid(IssueType.NOTSUPPORTED, "ValueSet " + name(vs) + " cannot be expanded"
          + (outcome != null && outcome.getError() != null ? ": " + outcome.getError() : ""));
    }
    List<ValueSetExpansionContainsComponent> flat = new ArrayList<>();
    long weight = flatten(((ValueSet) outcome.getValueSet()).getExpansion().getContains(), flat, 200, vs);
    return new Expansion(List.copyOf(flat), weight);
  }

  /** Nested contains one after the other (the order kept); refuses more than {@link #MAX_EXPANSION}. */
  private static long flatten(List<ValueSetExpansionContainsComponent> in, List<ValueSetExpansionContainsComponent> out,
      long weight, ValueSet vs) {
    for (ValueSetExpansionContainsComponent c : in) {
      if (c.hasCode()) {
        if (out.size() == MAX_EXPANSION) {
          throw TerminologyException.invalid(IssueType.TOOCOSTLY, "ValueSet " + name(vs) + " has more than "
              + MAX_EXPANSION + " codes: too many to expand here");
        }
        out.add(c.copy().setContains(List.of()));
        weight += 150 + 2L * (len(c.getSystem()) + len(c.getCode()) + len(c.getDisplay()) + len(c.getVersion()));
      }
      weight = flatten(c.getContains(), out, weight, vs);
    }
    return weight;
  }

  private static int len(String s) {
    return s == null ? 0 : s.length();
  }

  private static String name(ValueSet vs) {
    return vs.hasUrl() ? vs.getUrl() : vs.hasName() ? vs.getName() : "(without url)";
  }

  /** $translate of one coding over {@code maps}. */
  public Parameters translate(List<ConceptMap> maps, Coding coding, String targetSystem, boolean reverse) {
    return ConceptTranslation.translate(maps,
        new ConceptTranslation.Request(coding.getSystem(), coding.getCode(), targetSystem, reverse));
  }

  private Weighed remember(String key, Function<String, Weighed> make) {
    Weighed w = remembered.getIfPresent(key);
    if (w == null) {
      w = make.apply(key); // outside the cache's lock: an expansion may take a while
      remembered.put(key, w);
    }
    return w;
  }
}
