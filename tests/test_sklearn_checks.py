"""scikit-learn's own estimator checks on TractableMLPRegressor."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_relaxreg import TractableMLPRegressor

# check_regressors_train requires R^2 > 0.5 on its training data. With the default
# lr=1e-3, 30 epochs of Adam on 200 samples reach only about 0.1, so the checks use
# lr=1e-2, which reaches about 0.8 in the same 30 epochs.
# Every check passes with these settings, so no check is listed in expected_failed_checks.
# Two checks skip themselves unless the environment provides what they test:
# check_array_api_input needs SCIPY_ARRAY_API=1 set before scipy is imported, and
# the pandas half of check_regressor_data_not_an_array needs pandas.
ESTIMATOR = TractableMLPRegressor(hidden_layer_sizes=(8,), max_epochs=30, lr=1e-2, random_state=0)


@parametrize_with_checks([ESTIMATOR])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
