package io.appointmentserver.search;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import io.appointmentserver.search.SearchParameters.Param;
import io.appointmentserver.security.AccessTags;
import java.util.regex.Pattern;
import java.math.BigDecimal;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.dstu3.fhirpath.ExpressionNode;
import org.hl7.fhir.dstu3.fhirpath.FHIRPathEngine;
import org.hl7.fhir.dstu3.hapi.ctx.HapiWorkerContext;
import org.hl7.fhir.dstu3.model.Base;
import org.hl7.fhir.dstu3.model.Address;
import org.hl7.fhir.dstu3.model.BaseDateTimeType;
import org.hl7.fhir.dstu3.model.BooleanType;
import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.ContactPoint;
import org.hl7.fhir.dstu3.model.DecimalType;
import org.hl7.fhir.dstu3.model.Enumeration;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.dstu3.model.HumanName;
import org.hl7.fhir.dstu3.model.Identifier;
import org.hl7.fhir.dstu3.model.IntegerType;
import org.hl7.fhir.dstu3.model.Period;
import org.hl7.fhir.dstu3.model.Quantity;
import org.hl7.fhir.dstu3.model.Range;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.Timing;
import org.hl7.fhir.dstu3.model.UriType;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The index rows of a resource: each search parameter's FHIRPath expression evaluated with HAPI's
 * DSTU3 engine ({@link FHIRPathEngine}), each value turned into rows of its parameter's kind. The
 * engine gets an empty set of definitions: the search expressions navigate and filter by type
 * name and extension URL only, and loading all of DSTU3's StructureDefinitions would cost each
 * server seconds and a hundred megabytes more (the validator loads its own when it needs them).
 * An expression that selects an extension indexes the extension's value (as the eHealth
 * SearchParameters do). {@code _id} and {@code _lastUpdated} are columns of the resource itself.
 */
public final class Extractor {
  private static final Logger log = LoggerFactory.getLogger(Extractor.class);
  /** {@code _id} and {@code _lastUpdated} are read from the resource table's own columns. */
  public static final Set<String> FROM_COLUMNS = Set.of("_id", "_lastUpdated");
  /**
   * A token parameter's texts (CodeableConcept.text, Coding.display, Identifier.type.text) are
   * string rows of the parameter named with this suffix, for {@code :text}: no search parameter
   * name has a colon.
   */
  static final String TEXT = ":text";

  private final FhirContext ctx;
  private final SearchParameters params;
  private final ZoneId zone;
  /** The FHIRPath engine is not made for sharing between threads: one each, with its parsed expressions. */
  private final ThreadLocal<Engine> engines;
  private final Set<String> reported = ConcurrentHashMap.newKeySet();

  private record Engine(FHIRPathEngine path, Map<String, ExpressionNode> parsed) {}

  public Extractor(FhirContext ctx, SearchParameters params, ZoneId zone) {
    this.ctx = ctx;
    this.params = params;
    this.zone = zone;
    this.engines = ThreadLocal.withInitial(() -> new Engine(
        new FHIRPathEngine(new HapiWorkerContext(ctx, new PrePopulatedValidationSupport(ctx))), new HashMap<>()));
  }

  public FhirContext context() {
    return ctx;
  }

  public SearchParameters parameters() {
    return params;
  }

  /** The rows of {@code resource}, a {@code type}, under the current parameters. */
  public IndexRows extract(String type, IBaseResource resource) {
    return extract(params.current(), type, resource);
  }

  /** The rows of {@code resource}, a {@code type}, under {@code defs}. */
  public IndexRows extract(SearchParameters.Definitions defs, String type, IBaseResource resource) {
    IndexRows rows = new IndexRows();
    Engine engine = engines.get();
    for (Param p : defs.of(type).values()) {
      if (p.expression() == null || FROM_COLUMNS.contains(p.name())) {
        continue;
      }
      if (p.kind() == RestSearchParameterTypeEnum.COMPOSITE) {
        composite(rows, engine, type, p, defs.of(type), (Base) resource);
        continue;
      }
      List<Base> values;
      try {
        values = evaluate(engine, (Base) resource, p.expression());
      } catch (Exception e) {
        if (reported.add(type + "." + p.name())) {
          log.warn("search parameter {}.{} ({}) not indexed: {}", type, p.name(), p.expression(), e.getMessage());
        }
        continue;
      }
      for (Base v : values) {
        try {
          add(rows, p, v);
        } catch (RuntimeException e) {
          // a value the index cannot hold (a date beyond what it compares) must not refuse the write
          if (reported.add(type + "." + p.name() + ":value")) {
            log.warn("search parameter {}.{}: a value not indexed: {}", type, p.name(), e.toString());
          }
        }
      }
    }
    return rows;
  }

  private static List<Base> evaluate(Engine engine, Base on, String expression) {
    ExpressionNode expr = engine.parsed().get(expression);
    if (expr == null) {
      expr = engine.path().parse(expression);
      engine.parsed().put(expression, expr);
    }
    return engine.path().evaluate(on, expr);
  }

  /**
   * The rows of a composite whose values pair per element ({@link Composites}): each element's
   * values of each component, as rows of the component's kind named by the element's number.
   */
  private void composite(IndexRows rows, Engine engine, String type, Param p, Map<String, Param> params, Base resource) {
    Composites.Shape shape = Composites.shape(type, p, params);
    if (shape == null || !shape.perElement()) {
      return; // answered by its components' own rows
    }
    int element = 0;
    try {
      for (Composites.Elements elements : shape.elements()) {
        for (Base e : evaluate(engine, resource, elements.path())) {
          for (int c = 0; c < shape.components().size(); c++) {
            String relative = elements.relative().get(c);
            if (relative == null) {
              continue;
            }
            Param component = shape.components().get(c);
            Param named = new Param(Composites.rowParam(p.name(), c, element), component.kind(), relative,
                component.targets());
            for (Base v : evaluate(engine, e, relative)) {
              add(rows, named, v, false);
            }
          }
          element++;
        }
      }
    } catch (Exception e) {
      if (reported.add(type + "." + p.name())) {
        log.warn("search parameter {}.{} ({}) not indexed: {}", type, p.name(), p.expression(), e.getMessage());
      }
    }
  }

  private void add(IndexRows rows, Param p, IBase v) {
    add(rows, p, v, true);
  }

  /** {@code texts}: also the string rows of a token's texts, for {@code :text}. */
  private void add(IndexRows rows, Param p, IBase v, boolean texts) {
    if (v instanceof Extension ext) {
      if (ext.getValue() != null) {
        add(rows, p, ext.getValue(), texts);
      }
      return;
    }
    switch (p.kind()) {
      case STRING -> string(rows, p.name(), v);
      case TOKEN -> token(rows, texts ? rows : new IndexRows(), p.name(), v);
      case REFERENCE -> reference(rows, p, v);
      case DATE -> date(rows, p.name(), v);
      case NUMBER -> {
        if (v instanceof DecimalType d && d.getValue() != null) {
          rows.number(p.name(), d.getValue());
        } else if (v instanceof IntegerType i && i.getValue() != null) {
          rows.number(p.name(), BigDecimal.valueOf(i.getValue()));
        }
      }
      case QUANTITY -> {
        if (v instanceof Quantity q && q.getValue() != null) {
          rows.quantity(p.name(), q.getValue(), q.getSystem(), q.hasCode() ? q.getCode() : q.getUnit());
        } else if (v instanceof Range r) {
          add(rows, p, r.getLow(), texts);
          add(rows, p, r.getHigh(), texts);
        }
      }
      case URI -> {
        if (v instanceof UriType u) {
          rows.uri(p.name(), u.getValue());
        } else if (v instanceof Reference r && r.getReference() != null) {
          rows.uri(p.name(), r.getReference());
        }
      }
      default -> {
        // special parameters: not indexed; composites have rows of their components' kinds (composite())
      }
    }
  }

  private static void string(IndexRows rows, String param, IBase v) {
    if (v instanceof HumanName n) {
      rows.string(param, n.getFamily());
      n.getGiven().forEach(g -> rows.string(param, g.getValue()));
      n.getPrefix().forEach(g -> rows.string(param, g.getValue()));
      n.getSuffix().forEach(g -> rows.string(param, g.getValue()));
      rows.string(param, n.getText());
    } else if (v instanceof Address a) {
      a.getLine().forEach(l -> rows.string(param, l.getValue()));
      rows.string(param, a.getCity());
      rows.string(param, a.getDistrict());
      rows.string(param, a.getState());
      rows.string(param, a.getPostalCode());
      rows.string(param, a.getCountry());
      rows.string(param, a.getText());
    } else if (v instanceof ContactPoint c) {
      rows.string(param, c.getValue());
    } else if (v instanceof Identifier i) {
      rows.string(param, i.getValue());
    } else if (v instanceof CodeableConcept c) {
      rows.string(param, c.getText());
    } else if (v instanceof IPrimitiveType<?> s) {
      rows.string(param, s.getValueAsString());
    }
  }

  /** The codes go to {@code rows}, their texts to {@code texts}. */
  private static void token(IndexRows rows, IndexRows texts, String param, IBase v) {
    if (v instanceof Coding c) {
      rows.token(param, c.getSystem(), c.getCode());
      texts.string(param + TEXT, c.getDisplay());
    } else if (v instanceof CodeableConcept cc) {
      cc.getCoding().forEach(c -> rows.token(param, c.getSystem(), c.getCode()));
      texts.string(param + TEXT, cc.getText());
      cc.getCoding().forEach(c -> texts.string(param + TEXT, c.getDisplay()));
    } else if (v instanceof Identifier i) {
      rows.token(param, i.getSystem(), i.getValue());
      if (i.hasType()) {
        texts.string(param + TEXT, i.getType().getText());
      }
    } else if (v instanceof ContactPoint c) {
      rows.token(param, null, c.getValue());
    } else if (v instanceof Enumeration<?> e) {
      rows.token(param, e.toSystem(), e.getValueAsString());
    } else if (v instanceof BooleanType b) {
      rows.token(param, null, b.getValue() == null ? null : b.getValue().toString());
    } else if (v instanceof IPrimitiveType<?> s) {
      rows.token(param, null, s.getValueAsString());
    }
  }

  /** Local references as stored ({@code Type/id}, without version), others as their absolute URL. */
  private static void reference(IndexRows rows, Param p, IBase v) {
    String ref = null;
    if (v instanceof Reference r) {
      ref = r.getReferenceElement().getValue();
    } else if (v instanceof UriType u) {
      ref = u.getValue();
    }
    if (ref == null || ref.isEmpty() || ref.startsWith("#")) {
      return;
    }
    ref = AccessTags.withoutVersion(ref);
    String type = localType(ref);
    if (type != null && !p.targets().isEmpty() && !p.targets().contains(type)) {
      return; // Appointment's patient is the actors that are Patients
    }
    rows.reference(p.name(), ref);
  }

  private static final Pattern LOCAL = Pattern.compile("[A-Z][A-Za-z]+/[A-Za-z0-9\\-.]{1,64}");

  /** The type of a relative {@code Type/id} reference, or null for anything else. */
  static String localType(String ref) {
    return LOCAL.matcher(ref).matches() ? ref.substring(0, ref.indexOf('/')) : null;
  }

  private void date(IndexRows rows, String param, IBase v) {
    if (v instanceof BaseDateTimeType d) {
      DateRange r = DateRange.of(d, zone);
      if (r != null) {
        rows.date(param, r);
      }
    } else if (v instanceof Period period) {
      if (period.hasStart() || period.hasEnd()) {
        DateRange start = DateRange.of(period.getStartElement(), zone);
        DateRange end = DateRange.of(period.getEndElement(), zone);
        rows.date(param, new DateRange(start == null ? DateRange.MIN : start.lo(), end == null ? DateRange.MAX : end.hi()));
      }
    } else if (v instanceof Timing t) {
      t.getEvent().forEach(e -> date(rows, param, e));
      if (t.hasRepeat() && t.getRepeat().hasBoundsPeriod()) {
        date(rows, param, t.getRepeat().getBoundsPeriod());
      }
    } else if (v instanceof StringType) {
      // a few DSTU3 date parameters also select strings (free text dates): not comparable
    }
  }
}
