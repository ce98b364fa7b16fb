"""Pure numerical fitting for in-vitro assays and microdialysis (imports nothing from behavscore).

Main entry points
-----------------
fit_dose_response : one dose-response curve (drc models LL.4, LL.3, LL.5, W1.4, W2.4)
fit_dose_response_curves : several curves with shared parameters, potency ratios
fit_many : a whole screen of curves on one dose layout, vectorised
fit_curve : any model y = f(x, *params), observed-Hessian and Gauss-Newton SEs
compare_models, lack_of_fit : F tests between nested fits and against dose means
"""

from .binding import (cheng_prusoff, fractional_occupancy, ki_from_fit, ki_table, occupancy_table,
                      percent_specific_binding, selectivity_table, specific_binding)
from .batch import fit_many
from .calcium import FURA2_KD_NM, calcium_metrics, fura2_ratio, grynkiewicz, trace_metrics
from .curves import MODELS, DoseResponseModel, get_model
from .dose_response import DoseResponseFit, compare_models, fit_dose_response, lack_of_fit
from .engine import CurveFit, fit_curve
from .flags import FLAG_LIMITS
from .group_stats import compare_to_reference, describe_groups
from .microdialysis import (compare_auc, normalise_baseline, peak_area_to_conc, standard_curve,
                            summarise_time_course, time_course_auc)
from .multicurve import MultiCurveFit, fit_dose_response_curves
from .normalise import control_summary, normalise_to_controls, percent_inhibition
from .plate import fit_plate, join_layout, parse_well, read_layout, read_plate_values
from .qpcr import efficiency_from_dilution, livak, pfaffl
from .starting_values import starting_values
from .uptake import uptake_rate, uptake_rates

__version__ = "0.1.0"

__all__ = [
    "fit_dose_response", "DoseResponseFit", "fit_dose_response_curves", "MultiCurveFit",
    "fit_many", "fit_curve", "CurveFit", "compare_models", "lack_of_fit", "MODELS",
    "DoseResponseModel", "get_model", "starting_values", "FLAG_LIMITS",
    "percent_inhibition", "normalise_to_controls", "control_summary",
    "uptake_rate", "uptake_rates",
    "specific_binding", "percent_specific_binding", "cheng_prusoff", "ki_from_fit", "ki_table",
    "selectivity_table", "fractional_occupancy", "occupancy_table",
    "fura2_ratio", "grynkiewicz", "trace_metrics", "calcium_metrics", "FURA2_KD_NM",
    "livak", "pfaffl", "efficiency_from_dilution",
    "standard_curve", "peak_area_to_conc", "normalise_baseline", "time_course_auc",
    "summarise_time_course", "compare_auc",
    "parse_well", "read_plate_values", "read_layout", "join_layout", "fit_plate",
    "compare_to_reference", "describe_groups",
]
