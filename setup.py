"""famt_mm: FAMT (Frequency & Attention-driven Masking and Throwing) for OpenMMLab."""
import os
import re
import shutil
import sys
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r"__version__ = '([^']+)'", (HERE / 'famt_mm' / 'version.py').read_text()).group(1)

# The stack measured together (see README "Installation"). mmcv 2.1.0 has no wheels on PyPI and must be
# built with ops before this package is installed: tools/setup_env.sh does it.
INSTALL_REQUIRES = [
    'torch==2.13.0',
    'torchvision==0.28.0',
    'mmengine==0.10.7',
    'mmcv==2.1.0',
    'mmpretrain==1.2.0',
    'mmdet==3.3.0',
    'mmsegmentation==1.2.2',
    'ftfy',
    'regex',
    'numpy',
]


def add_mim_extension():
    """Ship ``configs/`` inside the package as ``famt_mm/.mim/configs``, as OpenMMLab packages do:
    a link for an editable install, a copy for a regular one, so installed tools find the configs."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif {'install', 'bdist_wheel', 'sdist', 'build', 'build_py'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    mim_dir = HERE / 'famt_mm' / '.mim'
    mim_dir.mkdir(exist_ok=True)
    target = mim_dir / 'configs'
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if mode == 'symlink':
        os.symlink(os.path.relpath(HERE / 'configs', mim_dir), target, target_is_directory=True)
    else:
        shutil.copytree(HERE / 'configs', target)


add_mim_extension()
setup(
    name='famt_mm',
    version=VERSION,
    description='FAMT: Frequency & Attention-driven Masking and Throwing for masked image modeling, '
                'as an OpenMMLab (mmpretrain / mmdet / mmseg) plugin',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['famt_mm', 'famt_mm.*']),
    include_package_data=True,
    package_data={'famt_mm': ['.mim/configs/**/*.py', '.mim/configs/**/*.yml']},
    install_requires=INSTALL_REQUIRES,
    extras_require={
        'demo': ['scikit-learn'],
        'tests': ['scikit-learn', 'pytest', 'pytest-timeout'],
    },
    license='Apache-2.0',
)
