"""The 2017 runtime modules (scoring/azureml), run with PYTHONPATH=scoring by
test/unit/azureml-runtime.test.ts. Needs numpy and pandas (Debian: python3-pandas)."""

import base64
import io
import json
import os
import pickle
import pickletools
import subprocess
import sys
import tempfile
import textwrap
import unittest
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pandas as pd

from azureml.api.realtime.services import generate_schema
from azureml.api.schema.dataTypes import DataTypes
from azureml.api.schema.pandasUtil import PandasSchema, PandasUtil
from azureml.api.schema.numpyUtil import NumpyUtil
from azureml.api.schema.pythonUtil import PythonUtil
from azureml.api.schema.sampleDefinition import SampleDefinition
from azureml.api.schema.schemaUtil import load_service_schema

SCORING = os.path.dirname(os.path.dirname(os.path.abspath(__import__("azureml").__file__)))


def globals_of(encoded):
    """The module/class names a pickle refers to, and its protocol."""
    names = []
    protocol = None
    for opcode, arg, _ in pickletools.genops(base64.b64decode(encoded)):
        if opcode.name == "PROTO":
            protocol = arg
        if opcode.name == "GLOBAL":
            names.append(arg)
    return protocol, names


class GenerateSchemaTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.frame = pd.DataFrame([[5.1, 3.5, 1.4, 0.2, "x"]], columns=["sepal length", "sepal width", "petal length", "petal width", "note"])

    def write(self, run, inputs, outputs=None):
        path = os.path.join(self.dir, "outputs", "service_schema.json")
        generate_schema(run_func=run, inputs=inputs, filepath=path, outputs=outputs)
        with open(path) as f:
            return json.load(f)

    def test_writes_the_2017_format_with_protocol_3_pickles_of_the_2017_classes(self):
        def run(input_df, threshold=0.5):
            return None

        doc = self.write(run, {"input_df": SampleDefinition(DataTypes.PANDAS, self.frame), "threshold": SampleDefinition(DataTypes.STANDARD, 0.7)}, {"label": SampleDefinition(DataTypes.STANDARD, "setosa")})
        self.assertEqual(sorted(doc), ["input", "output"])
        entry = doc["input"]["input_df"]
        self.assertEqual(list(entry), ["internal", "swagger", "type"])
        self.assertEqual(entry["type"], 3)
        protocol, names = globals_of(entry["internal"])
        self.assertEqual(protocol, 3)
        self.assertEqual(names[0], "azureml.api.schema.pandasUtil PandasSchema")
        self.assertIn("numpy dtype", names)
        self.assertEqual(entry["swagger"]["type"], "array")
        self.assertEqual(list(entry["swagger"]["items"]["properties"]), ["sepal length", "sepal width", "petal length", "petal width", "note"])
        self.assertEqual(entry["swagger"]["items"]["properties"]["sepal length"], {"type": "number", "format": "double"})
        self.assertEqual(entry["swagger"]["items"]["properties"]["note"], {"type": "string"})
        self.assertEqual(entry["swagger"]["example"], [{"sepal length": 5.1, "sepal width": 3.5, "petal length": 1.4, "petal width": 0.2, "note": "x"}])
        standard = doc["input"]["threshold"]
        self.assertEqual(standard["type"], 0)
        self.assertEqual(standard["swagger"], {"type": "number", "format": "double", "example": 0.7})
        self.assertEqual(globals_of(standard["internal"]), (3, ["azureml.api.schema.pythonUtil PythonSchema", "builtins float"]))
        self.assertEqual(doc["output"]["label"]["swagger"], {"type": "string", "example": "setosa"})

    def test_a_str_schema_pickles_exactly_as_the_2017_runtime_did(self):
        # The bytes 2017's runtime wrote for PythonSchema(str): protocol 3, NEWOBJ, a one-key state.
        expected = b"\x80\x03cazureml.api.schema.pythonUtil\nPythonSchema\nq\x00)\x81q\x01}q\x02X\t\x00\x00\x00data_typeq\x03cbuiltins\nstr\nq\x04sb."
        doc = self.write(lambda doc_text: None, {"doc_text": SampleDefinition(DataTypes.STANDARD, "SUVs are popular")})
        self.assertEqual(base64.b64decode(doc["input"]["doc_text"]["internal"]), expected)

    def test_round_trips_every_type_and_reads_the_earliest_azure_ml_api_module_path(self):
        def run(input_df, arr, text):
            return None

        doc = self.write(run, {"input_df": SampleDefinition(DataTypes.PANDAS, self.frame), "arr": SampleDefinition(DataTypes.NUMPY, np.array([[1, 2], [3, 4]], dtype=np.int32)), "text": SampleDefinition(DataTypes.STANDARD, "hi")})
        # The earliest releases pickled azure.ml.api.schema.* classes: the same file, the old path.
        internal = base64.b64decode(doc["input"]["input_df"]["internal"]).replace(b"cazureml.api.schema.pandasUtil\n", b"cazure.ml.api.schema.pandasUtil\n")
        self.assertIn(b"azure.ml.api", internal)
        doc["input"]["input_df"]["internal"] = base64.b64encode(internal).decode()
        path = os.path.join(self.dir, "old.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        loaded = load_service_schema(path)["input"]
        self.assertIsInstance(loaded["input_df"].internal, PandasSchema)
        self.assertEqual(loaded["input_df"].internal.column_names, list(self.frame.columns))
        self.assertEqual([str(t) for t in loaded["input_df"].internal.column_types], ["float64"] * 4 + ["object"])
        self.assertEqual(loaded["arr"].internal.data_type, np.dtype("int32"))
        self.assertEqual(loaded["arr"].internal.shape, (2, 2))
        self.assertIs(loaded["text"].internal.data_type, str)

    def test_refuses_samples_that_do_not_match_run(self):
        with self.assertRaisesRegex(ValueError, "Argument mismatch.*inputs name other"):
            self.write(lambda input_df: None, {"other": SampleDefinition(DataTypes.STANDARD, 1)})
        with self.assertRaisesRegex(ValueError, "Argument mismatch.*run\\(\\) takes b"):
            self.write(lambda a, b: None, {"a": SampleDefinition(DataTypes.STANDARD, 1)})
        with self.assertRaisesRegex(ValueError, "Unknown data type"):
            SampleDefinition(7, 1)


class InputConversionTest(unittest.TestCase):
    def schema_of(self, data_type, sample):
        return {DataTypes.PANDAS: PandasUtil, DataTypes.NUMPY: NumpyUtil, DataTypes.STANDARD: PythonUtil}[data_type].extract_schema(sample)

    def test_pandas_input_takes_the_schema_column_order_and_dtypes_whatever_the_key_order(self):
        schema = self.schema_of(DataTypes.PANDAS, pd.DataFrame({"a": [1.5], "b": [2], "c": ["x"]}))
        frame = PandasUtil.get_input_object([{"c": "y", "b": 7, "a": 1}, {"b": 8, "a": 2.5, "c": "z"}], schema)
        self.assertEqual(list(frame.columns), ["a", "b", "c"])
        self.assertEqual([str(t) for t in frame.dtypes], ["float64", "int64", "object"])
        self.assertEqual(frame.values.tolist(), [[1.0, 7, "y"], [2.5, 8, "z"]])

    def test_pandas_input_errors_name_the_column(self):
        schema = self.schema_of(DataTypes.PANDAS, pd.DataFrame({"a": [1.5], "b": [2]}))
        with self.assertRaisesRegex(ValueError, 'columns the schema does not: "z"'):
            PandasUtil.get_input_object([{"a": 1, "b": 2, "z": 3}], schema)
        with self.assertRaisesRegex(ValueError, 'lacks the columns "b"'):
            PandasUtil.get_input_object([{"a": 1}], schema)
        with self.assertRaisesRegex(ValueError, 'column "a" cannot be read as float64'):
            PandasUtil.get_input_object([{"a": "x", "b": 2}], schema)
        with self.assertRaisesRegex(ValueError, "expected an array of records"):
            PandasUtil.get_input_object({"a": 1, "b": 2}, schema)

    def test_pandas_columns_without_names_match_their_positions_as_strings(self):
        schema = self.schema_of(DataTypes.PANDAS, pd.DataFrame([[3.0, 3.6]]))
        frame = PandasUtil.get_input_object([{"1": 2.0, "0": 1.0}], schema)
        self.assertEqual(list(frame.columns), [0, 1])
        self.assertEqual(frame.values.tolist(), [[1.0, 2.0]])

    def test_numpy_input_has_the_schema_dtype_and_dimensions(self):
        schema = self.schema_of(DataTypes.NUMPY, np.zeros((1, 3), dtype=np.float32))
        self.assertEqual(schema.swagger["items"]["items"], {"type": "number", "format": "float"})
        array = NumpyUtil.get_input_object([[1, 2, 3], [4, 5, 6]], schema)
        self.assertEqual(array.dtype, np.float32)
        self.assertEqual(array.shape, (2, 3))
        with self.assertRaisesRegex(ValueError, "dimension 1 has 2 items, expected 3"):
            NumpyUtil.get_input_object([[1, 2]], schema)
        with self.assertRaisesRegex(ValueError, "expected an array of 2 dimensions, got 1"):
            NumpyUtil.get_input_object([1, 2, 3], schema)

    def test_standard_input_is_the_json_value_of_the_sample_kind(self):
        schema = self.schema_of(DataTypes.STANDARD, 0.5)
        self.assertEqual(PythonUtil.get_input_object(2, schema), 2.0)
        with self.assertRaisesRegex(ValueError, "expected a number, got a string"):
            PythonUtil.get_input_object("2", schema)
        listed = self.schema_of(DataTypes.STANDARD, [[1, 2]])
        self.assertEqual(listed.swagger["items"], {"type": "array", "items": {"type": "integer", "format": "int64"}})
        self.assertEqual(PythonUtil.get_input_object([[3, 4]], listed), [[3, 4]])


class RuntimeModulesTest(unittest.TestCase):
    def run_python(self, code, env=None, pass_fds=()):
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, "PYTHONPATH": SCORING, **(env or {})}, capture_output=True, text=True, pass_fds=pass_fds, timeout=60)

    def test_a_standard_schema_imports_neither_numpy_nor_pandas(self):
        result = self.run_python("""
            import sys
            from azureml.api.schema.dataTypes import DataTypes
            from azureml.api.schema.sampleDefinition import SampleDefinition
            from azureml.api.realtime.services import generate_schema
            from azureml.datacollector import ModelDataCollector
            import azureml.assets, azureml.logging
            import azure.ml.api.schema.dataTypes
            generate_schema(lambda text: text, {"text": SampleDefinition(DataTypes.STANDARD, "x")}, "/dev/null")
            print(sorted(m for m in ("numpy", "pandas") if m in sys.modules))
        """)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "[]")

    def test_data_collection_off_says_so_once_and_collects_nothing(self):
        result = self.run_python("""
            from azureml.datacollector import ModelDataCollector
            dc = ModelDataCollector("model.pkl", identifier="inputs")
            dc.collect([1, 2]); dc.collect([3])
        """, env={"AML_MODEL_DC_STORAGE_ENABLED": "false"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.count("model data collection is off"), 1)
        self.assertEqual(result.stdout, "")

    def test_data_collection_on_sends_one_json_line_per_call_down_the_pipe(self):
        read, write = os.pipe()
        result = self.run_python("""
            import numpy as np, pandas as pd
            from azureml.datacollector import ModelDataCollector
            ModelDataCollector("model.pkl", identifier="inputs").collect(pd.DataFrame({"a": [1.5, 2.0], "b": ["x", "y"]}))
            ModelDataCollector("model.pkl", identifier="prediction").collect(np.array(["setosa", "virginica"]))
            ModelDataCollector("m", identifier="scores", feature_names=["p0", "p1"]).collect(np.array([[0.1, 0.9]]), user_correlation_id="c-1")
        """, env={"AML_MODEL_DC_STORAGE_ENABLED": "true", "AML_MODEL_DC_PIPE_FD": str(write)}, pass_fds=(write,))
        os.close(write)
        with os.fdopen(read) as f:
            records = [json.loads(line) for line in f.read().splitlines()]
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([(r["model"], r["identifier"], r["columns"], r["rows"]) for r in records], [
            ("model.pkl", "inputs", ["a", "b"], [[1.5, "x"], [2.0, "y"]]),
            ("model.pkl", "prediction", None, [["setosa"], ["virginica"]]),
            ("m", "scores", ["p0", "p1"], [[0.1, 0.9]]),
        ])
        self.assertEqual(records[2]["correlationId"], "c-1")
        self.assertRegex(records[0]["time"], r"^\d{4}-\d\d-\d\dT")

    def test_assets_logger_and_the_sklearn_joblib_of_2017(self):
        app = tempfile.mkdtemp()
        open(os.path.join(app, "vocab.txt"), "w").close()
        result = self.run_python("""
            import os
            from azureml.assets import get_local_path
            from azureml.logging import get_azureml_logger
            from sklearn.externals import joblib
            import joblib as real
            print(get_local_path("vocab.txt") == os.path.join(os.environ["AML_APP_ROOT"], "vocab.txt"), get_local_path("nowhere.txt"))
            print(joblib is real, real.__spec__.name)
            get_azureml_logger().log("Accuracy", 0.93)
        """, env={"AML_APP_ROOT": app})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), ["True nowhere.txt", "True joblib"])
        self.assertIn("[azureml] Accuracy: 0.93", result.stderr)

    def test_dataframes_have_as_matrix_once_pandas_loads(self):
        result = self.run_python("""
            import azureml
            import pandas as pd
            print(pd.DataFrame({"a": [1], "b": [2]}).as_matrix().tolist())
        """)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "[[1, 2]]")


if __name__ == "__main__":
    unittest.main()
