"""The data types a run() argument can have (the values 2017 schema files record as "type")."""


class DataTypes(object):
    STANDARD = 0
    NUMPY = 1
    SPARK = 2
    PANDAS = 3

    NAMES = {0: "STANDARD", 1: "NUMPY", 2: "SPARK", 3: "PANDAS"}

    @classmethod
    def name_of(cls, data_type):
        return cls.NAMES.get(data_type, "unknown type %r" % (data_type,))
