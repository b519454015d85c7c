# make-scenes.py: the small scenes the render tests inspect, split, verify and join.
#
#   blender -b --factory-startup -noaudio --python make-scenes.py -- OUT_DIR
#
# writes into OUT_DIR:
#   anim.blend              Cycles, 160x120, 8 samples, frames 1-4 at 24 fps; the cube
#                           (checker texture, 12 squares) turns from frame 1 to 4, so
#                           every frame differs; denoising asked for (Kiln renders
#                           without it); a fixed seed
#   compressed.blend        anim.blend saved compressed (zstd in Blender 3)
#   eevee/eevee.blend       anim.blend with EEVEE as its engine
#   nocamera.blend          anim.blend without its camera
#   missing/missing.blend   an image texture //textures/present.png that exists, one
#                           //textures/absent.png that does not, and a cube linked from
#                           //libs/gone.blend, which is deleted after linking
#   hang/hang.blend         links a cube from //lib.blend; the tests replace lib.blend
#                           with a named pipe, so that loading the scene never ends
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import sys

import bpy

out_dir = sys.argv[sys.argv.index("--") + 1]


def path(name):
    full = os.path.join(out_dir, name)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full


def reset():
    bpy.ops.wm.read_factory_settings(use_empty=False)
    scene = bpy.context.scene
    scene.render.engine = 'CYCLES'
    scene.cycles.samples = 8
    scene.cycles.seed = 7
    scene.cycles.use_denoising = True
    scene.render.resolution_x = 160
    scene.render.resolution_y = 120
    scene.render.resolution_percentage = 100
    scene.render.fps = 24
    scene.frame_start = 1
    scene.frame_end = 4
    scene.render.image_settings.file_format = 'PNG'
    cube = bpy.data.objects["Cube"]
    cube.rotation_euler = (0, 0, 0)
    cube.keyframe_insert("rotation_euler", frame=1)
    cube.rotation_euler = (0, 0, 1.2)
    cube.keyframe_insert("rotation_euler", frame=4)
    material = bpy.data.materials.new("Checker")
    material.use_nodes = True
    nodes = material.node_tree.nodes
    checker = nodes.new("ShaderNodeTexChecker")
    checker.inputs["Scale"].default_value = 12
    material.node_tree.links.new(checker.outputs["Color"],
                                 nodes["Principled BSDF"].inputs["Base Color"])
    cube.data.materials.append(material)
    return scene


def save(name, compress=False):
    bpy.context.preferences.filepaths.save_version = 0   # no .blend1 backups
    bpy.ops.wm.save_as_mainfile(filepath=path(name), compress=compress)


reset()
save("anim.blend")
save("compressed.blend", compress=True)

scene = reset()
scene.render.engine = 'BLENDER_EEVEE'
save("eevee/eevee.blend")

reset()
bpy.data.objects.remove(bpy.data.objects["Camera"])
save("nocamera.blend")

# A library to link from, then the scene that links it.
bpy.ops.wm.read_factory_settings(use_empty=False)
save("missing/libs/gone.blend")
save("hang/lib.blend")

for scene_name, library in (("missing/missing.blend", "//libs/gone.blend"),
                            ("hang/hang.blend", "//lib.blend")):
    scene = reset()
    save(scene_name)
    with bpy.data.libraries.load(bpy.path.abspath(library), link=True,
                                 relative=True) as (data_from, data_to):
        data_to.objects = ["Cube"]
    for obj in data_to.objects:
        scene.collection.objects.link(obj)
    if scene_name.startswith("missing"):
        present = bpy.data.images.new("present", 4, 4)
        present.filepath_raw = path("missing/textures/present.png")
        present.file_format = 'PNG'
        present.save()
        present.filepath = "//textures/present.png"
        absent = bpy.data.images.new("absent", 4, 4)
        absent.source = 'FILE'
        absent.filepath = "//textures/absent.png"
        material = bpy.data.materials.new("Textured")
        material.use_nodes = True
        for image in (present, absent):
            texture = material.node_tree.nodes.new("ShaderNodeTexImage")
            texture.image = image
        bpy.data.objects["Cube"].data.materials.append(material)
    save(scene_name)

os.remove(path("missing/libs/gone.blend"))
print("KILN-SCENES-DONE", flush=True)
