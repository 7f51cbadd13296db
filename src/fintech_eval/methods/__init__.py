"""Pipeline stage methods: one function per stage over wide frames, plus a registry of named methods each.

A plain list of re-exports (``X as X``), one per line, so that other stages can add theirs.
"""

from .aggregate import AGGREGATORS as AGGREGATORS
from .aggregate import AggregationReport as AggregationReport
from .aggregate import aggregate as aggregate
from .aggregate import aggregate_output as aggregate_output
from .aggregate import outrank_matrix as outrank_matrix
from .aggregate import topsis as topsis
from .ahp import AHP_METHODS as AHP_METHODS
from .ahp import RANDOM_INDEX as RANDOM_INDEX
from .ahp import AHPResult as AHPResult
from .ahp import ahp as ahp
from .ahp import ahp_tree as ahp_tree
from .ahp import judgement_matrix as judgement_matrix
from .denominate import DENOMINATORS as DENOMINATORS
from .denominate import denominate as denominate
from .denominate import denominate_output as denominate_output
from .denominate import mapping_from_imeta as mapping_from_imeta
from .impute import IMPUTERS as IMPUTERS
from .impute import ImputeResult as ImputeResult
from .impute import impute as impute
from .levels import LevelRule as LevelRule
from .levels import rate as rate
from .normalise import NORMALISERS as NORMALISERS
from .normalise import efficacy_coefficient as efficacy_coefficient
from .normalise import normalise as normalise
from .normalise import normalise_output as normalise_output
from .rank import group_rank as group_rank
from .rank import rank as rank
from .screen import SCREENERS as SCREENERS
from .screen import ScreenResult as ScreenResult
from .screen import data_availability as data_availability
from .screen import screen as screen
from .treat import TREATERS as TREATERS
from .treat import TreatResult as TreatResult
from .treat import check_skew_kurt as check_skew_kurt
from .treat import skew_kurt as skew_kurt
from .treat import treat as treat
from .trends import TRENDS as TRENDS
from .trends import trends as trends
from .weights import WEIGHTS as WEIGHTS
from .weights import WeightSets as WeightSets
from .weights import combine_weights as combine_weights
from .weights import effective_weights as effective_weights
from .weights import nelder_mead_r as nelder_mead_r
from .weights import opt_weights as opt_weights
from .weights import pca as pca
from .weights import pca_weight_set as pca_weight_set
